package tools

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Long texts (a message body, a thread, an event's description, an
// attachment's text) are read a page at a time: max_chars characters from
// offset, cut at a clean boundary, with next_offset to read on. Offsets
// count characters (runes), so pages joined end to end are the text.

const (
	defaultPageChars = 3000    // a page when the call gives no max_chars
	maxPageChars     = 100_000 // the largest max_chars accepted (the budget may clamp it)
)

// PageArgs are the arguments of a paged read.
type PageArgs struct {
	MaxChars int `json:"max_chars,omitempty" jsonschema:"minimum=1,maximum=100000"`
	Offset   int `json:"offset,omitempty" jsonschema:"minimum=0" jsonschema_description:"next_offset of the previous call."`
}

// Paging is where a paged text stands, as the result shows it.
type Paging struct {
	NextOffset     int `json:"next_offset,omitempty"`
	RemainingChars int `json:"remaining_chars,omitempty"`

	text   []rune // the whole text known, from offset 0
	offset int    // of the page
	more   bool   // the source holds text beyond text (an attachment read in part)
}

// pageArgs checks max_chars and offset and returns the page size: the
// one asked for (or the default), clamped to what the budget leaves.
func (c *Call) pageArgs(maxChars, offset, def int) (int, error) {
	if maxChars < 0 || maxChars > maxPageChars {
		return 0, argError("max_chars", "must be between 1 and %d, not %d", maxPageChars, maxChars)
	}
	if offset < 0 {
		return 0, argError("offset", "must be 0 or more, not %d", offset)
	}
	if maxChars == 0 {
		maxChars = def
	}
	return min(maxChars, c.budgetChars()), nil
}

// page returns the page of text from offset holding at most maxChars
// characters, and records where it ends. more says the source holds text
// beyond text.
func (p *Paging) page(text string, offset, maxChars int, more bool) (string, error) {
	p.text, p.offset, p.more = []rune(text), offset, more
	if offset > 0 && offset >= len(p.text) {
		return "", argError("offset", "is past the end: the text has %d characters", len(p.text))
	}
	return p.cut(maxChars), nil
}

// cut sets the page to at most n characters from the offset.
func (p *Paging) cut(n int) string {
	end := min(p.offset+n, len(p.text))
	s := string(p.text[p.offset:end])
	if end < len(p.text) || p.more {
		s = s[:cleanCut(s, len(s))]
		end = p.offset + utf8.RuneCountInString(s)
	}
	p.NextOffset, p.RemainingChars = 0, 0
	if end < len(p.text) || p.more {
		p.NextOffset = end
	}
	if !p.more {
		p.RemainingChars = len(p.text) - end // unknown when the source was read in part
	}
	return s
}

// shrinkPage cuts the page to about three quarters: the budget's shrink
// for a paged result. It reports false when the page is already short.
func (p *Paging) shrinkPage(page *string) bool {
	n := utf8.RuneCountInString(*page)
	if n < 200 {
		return false
	}
	*page = p.cut(n * 3 / 4)
	return true
}

// readOn is the line telling how to read on, "" at the end of the text.
func (p *Paging) readOn() string {
	if p.NextOffset == 0 {
		return ""
	}
	rest := fmt.Sprintf("%d more characters", p.RemainingChars)
	if p.more {
		rest = "more text"
	}
	return fmt.Sprintf("\n\n[%s: call again with offset=%d]", rest, p.NextOffset)
}

// cleanCut is the largest index i ≤ n such that s[:i] ends at a clean
// boundary: after a paragraph, else a line, else a sentence, else a word,
// looking back half of s first, then all of it; never inside a word or
// a link. Without any boundary (one long word) it cuts at a rune boundary.
func cleanCut(s string, n int) int {
	n = min(n, len(s))
	for _, floor := range []int{n / 2, 0} {
		for _, sep := range []string{"\n\n", "\n", ". ", " "} {
			// At most 64 boundaries inside links are passed over per
			// kind: hostile text cannot make a cut slow.
			for i, tries := n, 0; i > floor && tries < 64; tries++ {
				j := strings.LastIndex(s[:i], sep)
				if j < floor || j < 0 {
					break
				}
				cut := j + len(sep)
				switch sep {
				case ". ": // "a. b" cuts after "a.": the space starts the next page
					cut = j + 1
				case " ":
					cut = j
				}
				if cut > 0 && !insideLink(s, cut) {
					return cut
				}
				i = j
			}
		}
	}
	for n > 0 && n < len(s) && !utf8.RuneStart(s[n]) {
		n--
	}
	if n == 0 {
		return min(len(s), utf8.RuneLen(firstRune(s)))
	}
	return n
}

func firstRune(s string) rune {
	r, _ := utf8.DecodeRuneInString(s)
	return r
}

// insideLink reports whether cutting s at i would split a link: an open
// "<http" with no ">" before i, or a URL running through i, or a link's
// text from its "<url>" (the cut falls just before " <http").
// Only maxLink bytes around i are looked at: a longer "link" is not one
// worth keeping whole, and the check stays cheap.
func insideLink(s string, i int) bool {
	before := s[max(i-maxLink, 0):i]
	if open := strings.LastIndex(before, "<http"); open >= 0 && !strings.Contains(before[open:], ">") {
		return true
	}
	if strings.HasPrefix(strings.TrimLeftFunc(s[i:min(i+maxLink, len(s))], unicode.IsSpace), "<http") {
		return true
	}
	start := strings.LastIndexFunc(before, unicode.IsSpace) + 1
	return i < len(s) && !unicode.IsSpace(firstRune(s[i:])) && strings.Contains(before[start:], "://")
}

const maxLink = 2048
