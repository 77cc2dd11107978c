package tools

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/outlook-mcp/outlook-mcp/handles"
)

// The response budget. Every answer, its text and its structuredContent
// together (a client may hand either to the model), stays within
// Call.Budget tokens by a cheap estimate (estimateTokens, checked against
// the real tokenizer in tests). Handlers size their pages to it
// (budgetChars); fitBudget, in Tool.call, then verifies every answer, so a
// tool that forgets still cannot overflow:
//
//  1. a result that knows how to continue (a list with a cursor, a text
//     with an offset) implements shrinker: it gives up its tail and says
//     how to get it (next_cursor, next_offset);
//  2. anything else is cut generically as a last guard (cutLargest): its
//     largest list or text is halved until the answer fits, and the text
//     says so. Text and structuredContent are both rendered from the cut
//     result, so they agree, and the result still matches its schema.
//
// An embedded resource (a binary attachment's bytes, read_attachment) is
// not text for the model and stays outside the budget; its own bound is
// maxBlobAttachment.

// DefaultMaxResponseTokens is the budget when none is configured.
const DefaultMaxResponseTokens = 4000

// MinResponseTokens is the smallest budget accepted: below it even an
// error message or one list item would not fit.
const MinResponseTokens = 500

// fenceTokens is what a pair of fence marks costs once rendered: two
// fence lines with a random marker (see fence.go).
const fenceTokens = 25

// shrinker is a result that can give up its tail and say how to read it:
// shrink drops some of what it holds (the last list items, the end of a
// text page), records the continuation, and reports false when there is
// nothing left it can drop.
type shrinker interface {
	shrink() bool
}

// estimateTokens is a cheap estimate of the o200k tokens of s, erring
// high, made in one pass over runs of similar characters: a plain word
// costs a token per 6 letters; a run mixing case and digits (an
// id, base64: Graph's ids cost a token per 1.4 characters) 3/4 of a
// token per character; digits a token per 3;
// punctuation a token per 3; a line break one; other white space
// nothing (it joins the word after it); a short handle 3/4 of a token
// per character; a non-ASCII letter one, another symbol two. A
// fence pair costs fenceTokens.
func estimateTokens(s string) int {
	n := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		j := i + size
		switch {
		case r == fenceOpen:
			n += fenceTokens
		case r == fenceClose:
		case r == '⟦' && strings.Contains(s[j:min(len(s), j+24)], "⟧"): // a rendered fence delimiter
			n += fenceTokens / 2
			j += strings.Index(s[j:], "⟧") + len("⟧")
		case isAlnum(r):
			upper, digit, lowerAfterUpper := 0, 0, false
			for k := i; k < len(s) && isAlnum(rune(s[k])); k++ {
				c := s[k]
				switch {
				case c >= 'A' && c <= 'Z':
					upper++
				case c >= '0' && c <= '9':
					digit++
				case upper > 0:
					lowerAfterUpper = true
				}
				j = k + 1
			}
			length := j - i
			switch {
			case handles.Valid(s[i:j]): // a short id: random letters and digits
				n += length * 3 / 4
			case digit == length:
				n += (length + 2) / 3
			case digit > 0 || upper*4 > length && lowerAfterUpper:
				n += (length*3 + 3) / 4
			case upper > 1: // CamelCase words
				n += (length + 2) / 3
			default:
				n += (length + 4) / 6
			}
		case r == '\n':
			n++
			for j < len(s) && (s[j] == '\n' || s[j] == ' ') {
				j++
			}
		case r == ' ' || r == '\t':
		case r < utf8.RuneSelf:
			k := j
			for k < len(s) && s[k] < utf8.RuneSelf && !isAlnum(rune(s[k])) && s[k] != ' ' && s[k] != '\n' {
				k++
			}
			n += (k - i + 2) / 3
			j = k
		case unicode.IsLetter(r):
			n++
		default: // symbols such as the fences' brackets cost more
			n += 2
		}
		i = j
	}
	return n
}

func isAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

// budgetChars is about how many characters of plain text a page may hold
// when it appears twice (text and structuredContent) beside headers.
func (c *Call) budgetChars() int {
	return max(c.budget()-responseOverhead, 100) * 3 / 2
}

// responseOverhead is what an answer spends besides its paged text:
// headers, ids, the JSON around it.
const responseOverhead = 700

func (c *Call) budget() int {
	if c.Budget <= 0 {
		return DefaultMaxResponseTokens
	}
	return c.Budget
}

// responseTokens estimates a response: its text and structuredContent.
func responseTokens(text string, out Result) int {
	data, _ := json.Marshal(out)
	return estimateTokens(text) + estimateTokens(string(data))
}

// fitBudget returns out's text once out fits c's budget, shrinking out
// as needed (see the comment at the top).
func (c *Call) fitBudget(out Result) string {
	// The estimate may be a few percent under the tokenizer (see
	// TestEstimateFollowsTheTokenizer): aim that much below the budget.
	budget := c.budget() * 19 / 20
	text := out.Text()
	if s, ok := out.(shrinker); ok {
		for responseTokens(text, out) > budget && s.shrink() {
			text = out.Text()
		}
	}
	if responseTokens(text, out) <= budget {
		return text
	}
	for responseTokens(text, out) > budget && cutLargest(reflect.ValueOf(out)) {
		text = out.Text()
	}
	note := fmt.Sprintf("\n\n[Shortened to fit the response budget of %d tokens: some lists and texts above are cut (a cut text ends in …); ask for less (filters, a smaller range) to see the rest.]", c.budget())
	// Nothing left to cut in the result, yet its text is too long: cut
	// the text itself.
	for responseTokens(text+note, out) > budget && text != "" {
		if len(text) < 16 {
			text = ""
			break
		}
		text = cutText(text, len(text)*3/4)
	}
	return text + note
}

// cutLargest halves the largest string or list reachable from v (a
// pointer to a result): the generic last guard. It reports false when
// nothing is left worth cutting.
func cutLargest(v reflect.Value) bool {
	var best reflect.Value
	bestSize := 0
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer, reflect.Interface:
			if !v.IsNil() {
				walk(v.Elem())
			}
		case reflect.Struct:
			for i := range v.NumField() {
				if v.Type().Field(i).IsExported() {
					walk(v.Field(i))
				}
			}
		case reflect.Slice:
			if v.Type().Elem().Kind() == reflect.Uint8 {
				return
			}
			size := 0
			for i := range v.Len() {
				data, _ := json.Marshal(v.Index(i).Interface())
				size += len(data)
				walk(v.Index(i))
			}
			if v.Len() > 1 && v.CanSet() && size > bestSize {
				best, bestSize = v, size
			}
		case reflect.String:
			if v.Len() > 200 && v.CanSet() && v.Len() > bestSize {
				best, bestSize = v, v.Len()
			}
		}
	}
	walk(v)
	if !best.IsValid() {
		return false
	}
	if best.Kind() == reflect.Slice {
		best.Set(best.Slice(0, best.Len()/2))
	} else {
		best.SetString(cutText(best.String(), best.Len()/2))
	}
	return true
}

// cutText cuts s to at most n bytes at a clean boundary (see cleanCut)
// and marks the cut with "…". A fence the cut leaves open is closed.
func cutText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:cleanCut(s, n)] + "…"
	return closeFences(s)
}

// closeFences appends a close mark for a fence left open in s.
func closeFences(s string) string {
	if strings.LastIndex(s, string(fenceOpen)) > strings.LastIndex(s, string(fenceClose)) {
		return s + string(fenceClose)
	}
	return s
}
