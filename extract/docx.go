package extract

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
)

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
			return fmt.Errorf("the Word document is too large to read (%s of XML)", fmt.Sprintf("%d MB", f.UncompressedSize64>>20))
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
