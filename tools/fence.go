package tools

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
)

// Text written by others (bodies, subjects, sender names, event
// descriptions, attachment text, notes) reaches the model fenced as data.
// A tool's Text marks such a block with untrusted; the chokepoint in
// Tool.call turns the marks into fences carrying a per-response random
// marker (renderFences), after the response budget has cut the text.
//
// The grammar, stated in the server instructions and the README:
//
//	⟦data k3m9qz⟧ … ⟦end k3m9qz⟧
//
// k3m9qz is the response's marker: 6 random characters (a-z, 2-7), the
// same for every fence of one response and new in the next. A fence that
// holds more than one line puts each delimiter on its own line. The
// delimiters' brackets never appear otherwise: wherever else a text holds
// ⟦ or ⟧ (or their lookalikes 〚 〛) the server writes \⟦ \⟧ (\〚 \〛),
// inside fences and out, so no text can open or close a fence.

// The marks are private-use runes: they cannot be typed into mail by
// accident, and untrusted strips them from the text it marks, so a text
// cannot open or close a fence of its own.
const (
	fenceOpen  = '\uE000'
	fenceClose = '\uE001'
)

// untrusted marks s as a block of text written by others.
func untrusted(s string) string {
	return string(fenceOpen) + dropMarks(s) + string(fenceClose)
}

// defang escapes the delimiters' brackets and their lookalikes, visibly.
var defang = strings.NewReplacer("⟦", `\⟦`, "⟧", `\⟧`, "〚", `\〚`, "〛", `\〛`)

// renderFences turns the marks in text into fences with a new random
// marker. A mark out of place (an open inside a fence, a close outside
// one) is dropped; a fence the budget cut short is closed at the end.
func renderFences(text string) string {
	if !strings.ContainsAny(text, string(fenceOpen)+string(fenceClose)+"⟦⟧〚〛") {
		return text
	}
	marker := newMarker()
	var b strings.Builder
	b.Grow(len(text) + 64)
	rest := text
	for {
		i := strings.IndexRune(rest, fenceOpen)
		if i < 0 {
			b.WriteString(defang.Replace(dropMarks(rest)))
			return b.String()
		}
		b.WriteString(defang.Replace(dropMarks(rest[:i])))
		rest = rest[i+len(string(fenceOpen)):]
		content := rest
		if j := strings.IndexRune(rest, fenceClose); j >= 0 {
			content, rest = rest[:j], rest[j+len(string(fenceClose)):]
		} else {
			rest = ""
		}
		content = defang.Replace(dropMarks(content))
		sep := ""
		if strings.Contains(content, "\n") {
			sep = "\n"
		}
		b.WriteString("⟦data " + marker + "⟧" + sep + content + sep + "⟦end " + marker + "⟧")
	}
}

func dropMarks(s string) string {
	return strings.Map(func(r rune) rune {
		if r == fenceOpen || r == fenceClose {
			return -1
		}
		return r
	}, s)
}

// newMarker is 6 random base32 characters: 30 bits a text cannot guess.
func newMarker() string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return strings.ToLower(base32.StdEncoding.EncodeToString(b[:]))[:6]
}
