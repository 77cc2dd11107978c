package extract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/ledongthuc/pdf"
)

func pdfText(ctx context.Context, data []byte, sink *textSink) (string, error) {
	r, err := pdf.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return "", fmt.Errorf("not a readable PDF (%s)", brief(err.Error()))
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
