package tools

import "strings"

// Text written by others (bodies, subjects, sender names, event
// descriptions, attachment text, notes) reaches the model fenced as data.
// A tool's Text marks such a block with untrusted; the chokepoint in
// Tool.call turns the marks into fences carrying a per-response random
// marker (renderFences), after the response budget has cut the text.

// The marks are private-use runes: they cannot be typed into mail by
// accident, and untrusted strips them from the text it marks, so a text
// cannot open or close a fence of its own.
const (
	fenceOpen  = '\uE000'
	fenceClose = '\uE001'
)

// untrusted marks s as a block of text written by others.
func untrusted(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == fenceOpen || r == fenceClose {
			return -1
		}
		return r
	}, s)
	return string(fenceOpen) + s + string(fenceClose)
}
