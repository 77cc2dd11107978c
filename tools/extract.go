package tools

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"path"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/ledongthuc/pdf"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Text extraction from attachments. Every extractor writes into a textSink,
// which normalises white space, counts characters and stops the extraction
// once it holds as many as the caller asked for. Files are untrusted: what
// a parser may decompress or walk is bounded, and a panic in a parser
// becomes an error.

// Formats read_attachment extracts text from.
const (
	formatPDF      = "pdf"
	formatDOCX     = "docx"
	formatHTML     = "html"
	formatCalendar = "calendar"
	formatText     = "text"
)

var formatsByType = map[string]string{
	"application/pdf": formatPDF,
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document": formatDOCX,
	"text/html":             formatHTML,
	"application/xhtml+xml": formatHTML,
	"text/calendar":         formatCalendar,
	"application/ics":       formatCalendar,
	"application/json":      formatText,
	"application/xml":       formatText,
	"application/x-ndjson":  formatText,
}

var formatsByExt = map[string]string{
	".pdf": formatPDF, ".docx": formatDOCX, ".htm": formatHTML, ".html": formatHTML, ".ics": formatCalendar,
	".txt": formatText, ".csv": formatText, ".tsv": formatText, ".json": formatText, ".xml": formatText,
	".md": formatText, ".log": formatText, ".yaml": formatText, ".yml": formatText,
}

// formatOf decides how to read an attachment: by a content type that says
// it, else by the file extension (senders often label files
// application/octet-stream), else any text/* as text. "" means binary.
func formatOf(name, contentType string) string {
	mt, _, _ := mime.ParseMediaType(contentType)
	if f, ok := formatsByType[mt]; ok {
		return f
	}
	if f, ok := formatsByExt[strings.ToLower(path.Ext(name))]; ok {
		return f
	}
	if strings.HasPrefix(mt, "text/") || strings.HasSuffix(mt, "+json") || strings.HasSuffix(mt, "+xml") {
		return formatText
	}
	return ""
}

// Bounds on what a hostile file can make the extractors do.
const (
	maxPDFPages      = 2000
	maxPDFNodes      = 10000    // page-tree nodes visited: a tree may loop
	maxPDFContent    = 64 << 20 // decompressed page content, all pages together
	maxDocumentXML   = 64 << 20 // decompressed word/document.xml
	maxPanicInDetail = 160
)

// extract writes the text of data into sink. note says what was left out.
func extract(ctx context.Context, format string, data []byte, sink *textSink) (note string, err error) {
	defer func() {
		if r := recover(); r != nil {
			note, err = "", fmt.Errorf("the file is malformed (%s)", oneLine(fmt.Sprint(r), maxPanicInDetail))
		}
	}()
	switch format {
	case formatPDF:
		note, err = pdfText(ctx, data, sink)
	case formatDOCX:
		err = docxText(data, sink)
	case formatHTML:
		err = htmlText(data, sink)
	case formatCalendar:
		// Unfold continuation lines (RFC 5545 3.1): a line break followed
		// by a space or tab continues the line.
		err = sink.write(strings.NewReplacer("\r\n ", "", "\r\n\t", "", "\n ", "", "\n\t", "").Replace(decodeText(data)))
	default:
		err = sink.write(decodeText(data))
	}
	if errors.Is(err, errSinkFull) {
		err = nil
	}
	return note, err
}

// decodeText reads text in UTF-8 (with or without a BOM) or UTF-16 with a
// BOM; anything else that is not valid UTF-8 is read as Latin-1.
func decodeText(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte("\xef\xbb\xbf")):
		data = data[3:]
	case bytes.HasPrefix(data, []byte("\xff\xfe")), bytes.HasPrefix(data, []byte("\xfe\xff")):
		big := data[0] == 0xfe
		units := make([]uint16, (len(data)-2)/2)
		for i := range units {
			hi, lo := data[2+2*i], data[3+2*i]
			if !big {
				hi, lo = lo, hi
			}
			units[i] = uint16(hi)<<8 | uint16(lo)
		}
		return string(utf16.Decode(units))
	}
	if utf8.Valid(data) {
		return string(data)
	}
	runes := make([]rune, len(data))
	for i, b := range data {
		runes[i] = rune(b)
	}
	return string(runes)
}

// ---- PDF ----

func pdfText(ctx context.Context, data []byte, sink *textSink) (string, error) {
	r, err := pdf.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return "", fmt.Errorf("not a readable PDF (%s)", oneLine(err.Error(), maxPanicInDetail))
	}
	pages := pdfPages(r.Trailer().Key("Root").Key("Pages"))
	budget := int64(maxPDFContent)
	failed := 0
	for i, p := range pages {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		text, size, err := pdfPageText(p, budget)
		budget -= size
		switch {
		case budget < 0:
			return fmt.Sprintf("Stopped at page %d of %d: the PDF holds more content than read_attachment reads.", i+1, len(pages)), nil
		case err != nil:
			failed++
			continue
		}
		if err := sink.write(text + "\n\n"); err != nil {
			return "", err
		}
	}
	switch {
	case failed > 0 && failed == len(pages):
		return "", errors.New("no page of the PDF could be read")
	case failed > 0:
		return fmt.Sprintf("%d of %d pages could not be read.", failed, len(pages)), nil
	case sink.n == 0:
		return "The PDF has no text layer (a scan or images only).", nil
	}
	return "", nil
}

// pdfPageText measures a page's decompressed content against budget before
// interpreting it, and recovers from the parser's panics.
func pdfPageText(p pdf.Page, budget int64) (text string, size int64, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	contents := p.V.Key("Contents")
	streams := []pdf.Value{contents}
	if contents.Kind() == pdf.Array {
		streams = streams[:0]
		for i := range contents.Len() {
			streams = append(streams, contents.Index(i))
		}
	}
	for _, s := range streams {
		rc := s.Reader()
		n, _ := io.Copy(io.Discard, io.LimitReader(rc, budget-size+1))
		rc.Close()
		if size += n; size > budget {
			return "", size, nil
		}
	}
	text, err = p.GetPlainText(nil)
	return text, size, err
}

// pdfPages lists the pages of a page tree. A hostile file may claim any
// page count or make its tree loop, so the walk is bounded.
func pdfPages(root pdf.Value) []pdf.Page {
	var pages []pdf.Page
	visits := 0
	var walk func(node pdf.Value, depth int)
	walk = func(node pdf.Value, depth int) {
		if visits++; visits > maxPDFNodes || depth > 64 || len(pages) >= maxPDFPages {
			return
		}
		switch node.Key("Type").Name() {
		case "Page":
			pages = append(pages, pdf.Page{V: node})
		case "Pages":
			kids := node.Key("Kids")
			for i := range kids.Len() {
				walk(kids.Index(i), depth+1)
			}
		}
	}
	walk(root, 0)
	return pages
}

// ---- DOCX ----

// docxText reads the paragraphs of word/document.xml: the text runs, tabs
// and breaks, leaving out deleted text of tracked changes.
func docxText(data []byte, sink *textSink) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return fmt.Errorf("not a readable Word document (%v)", err)
	}
	for _, f := range zr.File {
		if f.Name != "word/document.xml" {
			continue
		}
		if f.UncompressedSize64 > maxDocumentXML {
			return fmt.Errorf("the Word document is too large to read (%s of XML)", byteSize(int(min(f.UncompressedSize64, 1<<40))))
		}
		rc, err := f.Open()
		if err != nil {
			return fmt.Errorf("not a readable Word document (%v)", err)
		}
		defer rc.Close()
		return wordXML(io.LimitReader(rc, maxDocumentXML), sink)
	}
	return errors.New("not a Word document: it has no word/document.xml")
}

func wordXML(r io.Reader, sink *textSink) error {
	dec := xml.NewDecoder(r)
	inRun, inText := false, false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("the Word document is malformed (%v)", err)
		}
		s := ""
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "r":
				inRun = true
			case "t":
				inText = inRun
			case "tab":
				if inRun { // not a tab stop of the paragraph's properties
					s = "\t"
				}
			case "br", "cr":
				if inRun {
					s = "\n"
				}
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "r":
				inRun = false
			case "t":
				inText = false
			case "p":
				s = "\n"
			}
		case xml.CharData:
			if inText {
				s = string(t)
			}
		}
		if s != "" {
			if err := sink.write(s); err != nil {
				return err
			}
		}
	}
}

// ---- HTML ----

// plainText renders a short HTML string (an automatic reply, say) as text.
func plainText(h string) string {
	sink := newTextSink(len(h) + 1) // text is never longer than its HTML
	if err := htmlText([]byte(h), sink); err != nil {
		return strings.TrimSpace(h)
	}
	return sink.from(0)
}

// htmlText renders HTML as plain text: blocks on their own lines, list
// items with "- ", table cells followed by tabs, links as "text <url>",
// scripts and styles left out.
func htmlText(data []byte, sink *textSink) error {
	z := html.NewTokenizer(bytes.NewReader(data))
	var (
		skipText bool   // the next text is a script's or style's
		pre      int    // inside <pre>: keep white space
		href     string // of the open link
		linkText strings.Builder
	)
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			if z.Err() == io.EOF {
				return nil
			}
			return fmt.Errorf("the HTML is malformed (%v)", z.Err())
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
					href = h
					linkText.Reset()
				}
			case atom.Img:
				if alt := strings.TrimSpace(attrs["alt"]); alt != "" {
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

// ---- the sink ----

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

// from returns the text from character offset on.
func (s *textSink) from(offset int) string {
	text := s.b.String()
	for i := range text {
		if offset == 0 {
			return text[i:]
		}
		offset--
	}
	return ""
}
