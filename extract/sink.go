package extract

import (
	"errors"
	"strings"
	"unicode"
)

// Tidy normalises plain text the way extracted text is (see textSink): no
// trailing spaces, at most one blank line in a row, no control characters.
// It runs in this process: it only walks the string once.
func Tidy(s string) string {
	sink := newTextSink(len(s) + 1) // tidying never lengthens the text
	_ = sink.write(s)
	return sink.b.String()
}

// errSinkFull stops an extraction: the sink holds all the text wanted.
var errSinkFull = errors.New("enough text")

// textSink collects extracted text, normalised as it arrives: line breaks
// become \n, white space at the ends of lines and of the text goes, blank
// lines collapse to one, control characters are dropped. It holds at most
// limit characters; more marks it full, meaning more text follows.
type textSink struct {
	b        strings.Builder
	n, limit int
	full     bool
	breaks   int    // line breaks waiting for the next character
	spaces   []rune // spaces and tabs waiting for the next character
	lastCR   bool
	// flow: white space at the start of a line is layout, not text (HTML
	// outside <pre>), so it is dropped rather than kept as indentation.
	flow bool
}

func newTextSink(limit int) *textSink { return &textSink{limit: limit} }

func (s *textSink) write(str string) error {
	for _, r := range str {
		cr := s.lastCR
		s.lastCR = r == '\r'
		switch {
		case r == '\n' && cr: // the LF of a CRLF
		case r == '\n' || r == '\r' || r == '\f' || r == '\v' || r == '\u2028' || r == '\u2029':
			s.breaks++
			s.spaces = s.spaces[:0]
		case r == ' ' || r == '\t' || r == '\u00a0':
			s.spaces = append(s.spaces, r)
		case unicode.IsControl(r):
		default:
			if err := s.put(r); err != nil {
				return err
			}
		}
	}
	return nil
}

// put appends r after the white space waiting before it.
func (s *textSink) put(r rune) error {
	if s.n > 0 {
		for range min(s.breaks, 2) {
			if err := s.add('\n'); err != nil {
				return err
			}
		}
		if s.flow && s.breaks > 0 {
			s.spaces = s.spaces[:0]
		}
		for _, sp := range s.spaces {
			if sp == '\u00a0' {
				sp = ' '
			}
			if err := s.add(sp); err != nil {
				return err
			}
		}
	}
	s.breaks, s.spaces = 0, s.spaces[:0]
	return s.add(r)
}

func (s *textSink) add(r rune) error {
	if s.n >= s.limit {
		s.full = true
		return errSinkFull
	}
	s.b.WriteRune(r)
	s.n++
	return nil
}

// result is what the sink holds, with a note on what was left out.
func (s *textSink) result(note string) *Result {
	return &Result{Text: s.b.String(), Chars: s.n, Full: s.full, Note: note}
}
