package sim

import (
	"html"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Bodies are stored as the inside of <body> (HTML) or as plain text, and
// converted on the way out as Exchange does: HTML is wrapped in Outlook's
// envelope; Prefer: outlook.body-content-type="text" gets a text rendering
// with CRLF line ends and links written "text<url>".

// content is a stored message or event body.
type content struct {
	html bool
	text string // the inside of <body> when html, else plain text
}

// render returns the body in the requested type.
func (c content) render(wantHTML bool) map[string]any {
	var s string
	switch {
	case wantHTML && c.html:
		s = htmlEnvelope(c.text)
	case wantHTML:
		s = htmlEnvelope(textToHTML(c.text))
	case c.html:
		s = htmlToText(c.text)
	default:
		s = strings.ReplaceAll(strings.ReplaceAll(c.text, "\r\n", "\n"), "\n", "\r\n")
	}
	kind := "text"
	if wantHTML {
		kind = "html"
	}
	return map[string]any{"contentType": kind, "content": s}
}

// plain is the body as text, for previews and search.
func (c content) plain() string {
	if c.html {
		return htmlToText(c.text)
	}
	return c.text
}

// htmlText is the body as the inside of an HTML <body>.
func (c content) htmlText() string {
	if c.html || c.text == "" {
		return c.text
	}
	return textToHTML(c.text)
}

func htmlEnvelope(inner string) string {
	return "<html><head>\r\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">" +
		"<style type=\"text/css\" style=\"display:none\">\r\nP {margin-top:0;margin-bottom:0;}\r\n</style>\r\n" +
		"</head>\r\n<body dir=\"ltr\">\r\n" + inner + "\r\n</body>\r\n</html>\r\n"
}

func textToHTML(text string) string {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	for i, l := range lines {
		lines[i] = html.EscapeString(l)
	}
	return "<div class=\"PlainText\">" + strings.Join(lines, "<br>\r\n") + "</div>"
}

// preview is bodyPreview: the text with whitespace collapsed, at most 255 characters.
func preview(text string) string {
	s := strings.Join(strings.Fields(text), " ")
	if utf8.RuneCountInString(s) <= 255 {
		return s
	}
	r := []rune(s)
	return string(r[:255])
}

// htmlToText converts an HTML fragment to text roughly as Exchange does:
// tags stripped, entities decoded, <br> and blocks become line breaks,
// <hr> a line of underscores, list items "- ", links "text<url>".
func htmlToText(s string) string {
	var t textWriter
	var links []string
	var lists []int // per open list: the last item number, or -1 for <ul>
	skip := ""
	for s != "" {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			i = len(s)
		}
		if skip == "" {
			t.text(s[:i])
		}
		s = s[i:]
		if s == "" {
			break
		}
		j := strings.IndexByte(s, '>')
		if j < 0 {
			t.text(s)
			break
		}
		tag := s[1:j]
		s = s[j+1:]
		name, closing := tagName(tag)
		if skip != "" {
			if closing && name == skip {
				skip = ""
			}
			continue
		}
		switch name {
		case "head", "style", "script", "title":
			if !closing {
				skip = name
			}
		case "br":
			t.raw("\n")
		case "p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote":
			t.newlines(2)
		case "div", "tr":
			t.newlines(1)
		case "ul", "ol":
			t.newlines(1)
			switch {
			case closing && len(lists) > 0:
				lists = lists[:len(lists)-1]
			case !closing && name == "ol":
				lists = append(lists, 0)
			case !closing:
				lists = append(lists, -1)
			}
		case "li":
			if closing {
				break
			}
			t.newlines(1)
			if n := len(lists) - 1; n >= 0 && lists[n] >= 0 {
				lists[n]++
				t.raw(strconv.Itoa(lists[n]) + ". ")
			} else {
				t.raw("- ")
			}
		case "td", "th":
			if closing {
				t.raw("\t")
			}
		case "hr":
			t.newlines(1)
			t.raw("________________________________\n")
		case "a":
			if !closing {
				links = append(links, attr(tag, "href"))
			} else if n := len(links); n > 0 {
				if href := links[n-1]; href != "" && !strings.HasPrefix(href, "mailto:") {
					t.raw("<" + href + ">")
				}
				links = links[:n-1]
			}
		case "img":
			if alt := attr(tag, "alt"); alt != "" {
				t.text("[" + alt + "]")
			}
		}
	}
	return t.String()
}

func tagName(tag string) (string, bool) {
	closing := strings.HasPrefix(tag, "/")
	tag = strings.TrimPrefix(tag, "/")
	end := strings.IndexAny(tag, " \t\r\n/")
	if end < 0 {
		end = len(tag)
	}
	return strings.ToLower(tag[:end]), closing
}

// attr reads one attribute value of a tag, quoted or not.
func attr(tag, name string) string {
	lower := strings.ToLower(tag)
	i := strings.Index(lower, " "+name+"=")
	if i < 0 {
		return ""
	}
	v := tag[i+len(name)+2:]
	if v != "" && (v[0] == '"' || v[0] == '\'') {
		if end := strings.IndexByte(v[1:], v[0]); end >= 0 {
			return html.UnescapeString(v[1 : end+1])
		}
	}
	if end := strings.IndexAny(v, " >"); end >= 0 {
		v = v[:end]
	}
	return html.UnescapeString(v)
}

// textWriter collapses HTML whitespace and manages line breaks.
type textWriter struct{ b strings.Builder }

func (t *textWriter) text(s string) {
	s = html.UnescapeString(s)
	if strings.TrimSpace(s) == "" {
		if strings.ContainsRune(s, '\u00a0') {
			// <p>&nbsp;</p> is how Outlook writes an empty line.
			t.b.WriteRune('\u00a0')
			return
		}
		if s != "" && !t.atLineStart() && !strings.HasSuffix(t.b.String(), " ") {
			t.b.WriteByte(' ')
		}
		return
	}
	first, _ := utf8.DecodeRuneInString(s)
	last, _ := utf8.DecodeLastRuneInString(s)
	lead, trail := unicode.IsSpace(first), unicode.IsSpace(last)
	if lead && !t.atLineStart() && !strings.HasSuffix(t.b.String(), " ") {
		t.b.WriteByte(' ')
	}
	t.b.WriteString(strings.Join(strings.Fields(s), " "))
	if trail {
		t.b.WriteByte(' ')
	}
}

func (t *textWriter) raw(s string) {
	t.trimSpace()
	t.b.WriteString(s)
}

func (t *textWriter) atLineStart() bool {
	s := t.b.String()
	return s == "" || strings.HasSuffix(s, "\n")
}

func (t *textWriter) trimSpace() {
	s := t.b.String()
	if trimmed := strings.TrimRight(s, " "); len(trimmed) != len(s) {
		t.b.Reset()
		t.b.WriteString(trimmed)
	}
}

// newlines ensures the text ends with n line breaks (none at the start).
func (t *textWriter) newlines(n int) {
	t.trimSpace()
	s := t.b.String()
	if s == "" {
		return
	}
	have := len(s) - len(strings.TrimRight(s, "\n"))
	for ; have < n; have++ {
		t.b.WriteByte('\n')
	}
}

func (t *textWriter) String() string {
	lines := strings.Split(strings.TrimSpace(t.b.String()), "\n")
	out := lines[:0]
	blank := 0
	for _, l := range lines {
		l = strings.TrimRight(strings.ReplaceAll(l, "\u00a0", " "), " \t")
		if l == "" {
			if blank++; blank > 1 {
				continue
			}
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	return strings.Join(out, "\r\n")
}
