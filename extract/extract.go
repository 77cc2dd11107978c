// Package extract reads the text of attachments: PDF, Word (.docx), HTML,
// calendars and other text.
//
// Every extractor writes into a textSink, which normalises white space,
// counts characters and stops the extraction once it holds as many as the
// caller asked for. Files are untrusted. Plain text, calendars and HTML are
// read in this process: their readers are memory-safe and do work in
// proportion to the input. Every other format (PDF and DOCX today, and any
// format added later unless it is listed in inProcessFormats) is read in a
// child process of the same binary under limits on memory, CPU time, wall
// clock time and output (sandbox.go): a PDF parser can overflow its stack,
// allocate without bound or loop forever, and those are fatal errors that
// recover() cannot catch. main (and the TestMain of every package whose
// tests extract) must call RunChildIfRequested first.
package extract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime"
	"path"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Formats Read extracts text from.
const (
	PDF      = "pdf"
	DOCX     = "docx"
	HTML     = "html"
	Calendar = "calendar"
	Text     = "text"
)

var formatsByType = map[string]string{
	"application/pdf": PDF,
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document": DOCX,
	"text/html":             HTML,
	"application/xhtml+xml": HTML,
	"text/calendar":         Calendar,
	"application/ics":       Calendar,
	"application/json":      Text,
	"application/xml":       Text,
	"application/x-ndjson":  Text,
}

var formatsByExt = map[string]string{
	".pdf": PDF, ".docx": DOCX, ".htm": HTML, ".html": HTML, ".ics": Calendar,
	".txt": Text, ".csv": Text, ".tsv": Text, ".json": Text, ".xml": Text,
	".md": Text, ".log": Text, ".yaml": Text, ".yml": Text,
}

// FormatOf decides how to read an attachment: by a content type that says
// it, else by the file extension (senders often label files
// application/octet-stream), else any text/* as text. "" means binary.
func FormatOf(name, contentType string) string {
	mt, _, _ := mime.ParseMediaType(contentType)
	if f, ok := formatsByType[mt]; ok {
		return f
	}
	if f, ok := formatsByExt[strings.ToLower(path.Ext(name))]; ok {
		return f
	}
	if strings.HasPrefix(mt, "text/") || strings.HasSuffix(mt, "+json") || strings.HasSuffix(mt, "+xml") {
		return Text
	}
	return ""
}

// Noun names a sandboxed format for a person: "this PDF could not be read".
func Noun(format string) string {
	switch format {
	case PDF:
		return "PDF"
	case DOCX:
		return "Word document"
	}
	return "file"
}

// inProcessFormats are read without a sandbox: see the package comment.
var inProcessFormats = map[string]bool{Text: true, Calendar: true, HTML: true}

// Cheap reports whether reading all of a file's text costs little more
// than reading part of it: formats read in process, in one linear pass.
func Cheap(format string) bool { return inProcessFormats[format] }

// Result is the text an extraction produced.
type Result struct {
	Text  string `json:"text"`
	Chars int    `json:"chars"`          // characters in Text
	Full  bool   `json:"full,omitempty"` // the file holds more text than Text
	Note  string `json:"note,omitempty"` // what was left out, or why there is no text
}

// Read extracts at most limit characters of the text of data, a file in
// format. A file that is not what it claims is an ordinary error; one that
// made its reader crash or exceed a limit is an *UnsafeError.
func Read(ctx context.Context, format string, data []byte, limit int) (*Result, error) {
	if inProcessFormats[format] {
		return inProcess(ctx, format, data, limit)
	}
	return sandboxed(ctx, format, data, limit, DefaultLimits)
}

func inProcess(ctx context.Context, format string, data []byte, limit int) (*Result, error) {
	sink := newTextSink(limit)
	note, err := extract(ctx, format, data, sink)
	if err != nil {
		return nil, err
	}
	return sink.result(note), nil
}

// Bounds on what a hostile file can make the extractors do, besides the
// sandbox's limits.
const (
	maxPDFPages    = 2000
	maxPDFNodes    = 10000    // page-tree nodes visited: a tree may loop
	maxPDFContent  = 64 << 20 // decompressed page content, all pages together
	maxDocumentXML = 64 << 20 // decompressed word/document.xml
)

// extract writes the text of data into sink. note says what was left out.
// A panic in a parser becomes an error; what a panic is not (a stack
// overflow, running out of memory, an endless loop) is the sandbox's job.
func extract(ctx context.Context, format string, data []byte, sink *textSink) (note string, err error) {
	defer func() {
		if r := recover(); r != nil {
			note, err = "", fmt.Errorf("the file is malformed (%s)", brief(fmt.Sprint(r)))
		}
	}()
	switch format {
	case PDF:
		note, err = pdfText(ctx, data, sink)
	case DOCX:
		err = docxText(data, sink)
	case HTML:
		err = htmlText(data, sink)
	case Calendar:
		// Unfold continuation lines (RFC 5545 3.1): a line break followed
		// by a space or tab continues the line.
		err = sink.write(strings.NewReplacer("\r\n ", "", "\r\n\t", "", "\n ", "", "\n\t", "").Replace(decodeText(data)))
	case Text:
		err = sink.write(decodeText(data))
	default:
		err = fmt.Errorf("no reader for the format %q", format)
	}
	if errors.Is(err, errSinkFull) {
		err = nil
	}
	return note, err
}

// brief is a parser's message on one line, cut to a length fit for an
// error a person reads.
func brief(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 160 {
		return string(r[:159]) + "…"
	}
	return s
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
