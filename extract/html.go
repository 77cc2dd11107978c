package extract

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// PlainText renders a short HTML string (an automatic reply, say) as text,
// in this process: x/net/html is memory-safe and its work grows with its
// input, so HTML needs no sandbox.
func PlainText(h string) string {
	sink := newTextSink(len(h) + 1) // text is never longer than its HTML
	if err := htmlText([]byte(h), sink); err != nil {
		return strings.TrimSpace(h)
	}
	return sink.b.String()
}

// htmlText renders HTML as plain text: blocks on their own lines, list
// items with "- ", table cells followed by tabs, links as "text <url>"
// (tracking parameters dropped), scripts and styles left out. What a
// reader never sees stays out too: elements hidden by style or attribute
// (a newsletter's preheader), and images without alt text or of one
// pixel (tracking pixels).
func htmlText(data []byte, sink *textSink) error {
	z := html.NewTokenizer(bytes.NewReader(data))
	var (
		skipText bool   // the next text is a script's or style's
		pre      int    // inside <pre>: keep white space
		href     string // of the open link
		linkText strings.Builder
		hidden   atom.Atom // the tag of the hidden element being skipped
		depth    int       // of nested hidden tags of that name
	)
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			if z.Err() == io.EOF {
				return nil
			}
			return fmt.Errorf("the HTML is malformed (%v)", z.Err())
		}
		if depth > 0 {
			// Inside a hidden element: only its own nesting counts.
			if tt == html.StartTagToken || tt == html.EndTagToken {
				if name, _ := z.TagName(); atom.Lookup(name) == hidden {
					if tt == html.StartTagToken {
						depth++
					} else {
						depth--
					}
				}
			}
			continue
		}
		s := ""
		switch tt {
		case html.TextToken:
			if skipText {
				break
			}
			s = string(z.Text())
			if pre == 0 {
				s = collapseSpace(s)
			}
			if href != "" {
				linkText.WriteString(s)
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			tag := atom.Lookup(name)
			attrs := map[string]string{}
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				attrs[string(k)] = string(v)
			}
			if isHidden(attrs) {
				if tt == html.StartTagToken && tag != 0 && !voidTags[tag] {
					hidden, depth = tag, 1
				}
				continue
			}
			switch tag {
			case atom.Script, atom.Style, atom.Title, atom.Noscript, atom.Iframe, atom.Noembed, atom.Noframes, atom.Xmp:
				skipText = tt == html.StartTagToken
				continue
			case atom.Pre:
				pre++
			case atom.Br:
				s = "\n"
			case atom.Li:
				s = "\n- "
			case atom.A:
				if h := attrs["href"]; strings.HasPrefix(h, "http://") || strings.HasPrefix(h, "https://") {
					href = compactURL(h)
					linkText.Reset()
				}
			case atom.Img:
				if alt := strings.TrimSpace(attrs["alt"]); alt != "" && !isPixel(attrs) {
					s = "[" + collapseSpace(alt) + "]"
				}
			}
			if blockTags[tag] {
				s = "\n" + s
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			tag := atom.Lookup(name)
			switch tag {
			case atom.Pre:
				pre = max(pre-1, 0)
			case atom.Td, atom.Th: // the row's line break drops the last tab
				s = "\t"
			case atom.A:
				if href != "" && strings.TrimSpace(linkText.String()) != href {
					s = " <" + href + ">"
				}
				href = ""
			}
			if blockTags[tag] {
				s += "\n"
			}
		}
		skipText = false
		if s != "" {
			sink.flow = pre == 0
			if err := sink.write(s); err != nil {
				return err
			}
		}
	}
}

// isHidden reports whether an element's attributes hide it from a reader.
func isHidden(attrs map[string]string) bool {
	if _, ok := attrs["hidden"]; ok || attrs["aria-hidden"] == "true" {
		return true
	}
	for decl := range strings.SplitSeq(strings.ToLower(attrs["style"]), ";") {
		prop, value, _ := strings.Cut(decl, ":")
		value = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(value), "!important"))
		switch strings.TrimSpace(prop) {
		case "display":
			if value == "none" {
				return true
			}
		case "visibility":
			if value == "hidden" {
				return true
			}
		case "mso-hide":
			if value == "all" {
				return true
			}
		case "max-height", "font-size", "opacity":
			if value == "0" || value == "0px" {
				return true
			}
		}
	}
	return false
}

// isPixel reports whether an image is one of a tracking pixel's size.
func isPixel(attrs map[string]string) bool {
	small := func(v string) bool { v = strings.TrimSuffix(strings.TrimSpace(v), "px"); return v == "0" || v == "1" }
	return small(attrs["width"]) && small(attrs["height"])
}

// compactURL drops what a link carries for its sender's analytics
// (utm_ parameters), not for the reader.
func compactURL(h string) string {
	base, query, ok := strings.Cut(h, "?")
	if !ok {
		return h
	}
	var keep []string
	for p := range strings.SplitSeq(query, "&") {
		if !strings.HasPrefix(strings.ToLower(p), "utm_") && p != "" {
			keep = append(keep, p)
		}
	}
	if len(keep) == 0 {
		return base
	}
	return base + "?" + strings.Join(keep, "&")
}

// voidTags have no end tag: hiding one hides nothing after it.
var voidTags = map[atom.Atom]bool{
	atom.Area: true, atom.Base: true, atom.Br: true, atom.Col: true, atom.Embed: true, atom.Hr: true, atom.Img: true,
	atom.Input: true, atom.Link: true, atom.Meta: true, atom.Source: true, atom.Track: true, atom.Wbr: true,
}

var blockTags = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.Table: true, atom.Tr: true, atom.Ul: true, atom.Ol: true,
	atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true,
	atom.Blockquote: true, atom.Pre: true, atom.Hr: true, atom.Section: true, atom.Article: true,
	atom.Header: true, atom.Footer: true, atom.Dl: true, atom.Dt: true, atom.Dd: true,
}

// collapseSpace turns each run of white space into one space.
func collapseSpace(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) && r != '\u00a0' {
			space = true
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	if space {
		b.WriteByte(' ')
	}
	return b.String()
}
