package sim

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strings"
	"time"

	"github.com/outlook-mcp/outlook-mcp/internal/pdfgen"
)

// A file the fixture only describes (a name, a type, a stated size and
// perhaps its "text") is made here as a real, small file of its declared
// type, so that read_attachment reads it as it would the real one. Every
// file is built the same way each time: the sandbox is deterministic.

// renderFile is a real file of the declared type that holds text.
func renderFile(contentType, name, text string) []byte {
	if text == "" {
		text = name
	}
	ct := strings.ToLower(contentType)
	switch {
	case strings.Contains(ct, "pdf"):
		return pdfFile(name, text)
	case strings.Contains(ct, "wordprocessingml"):
		return docxFile(text)
	case strings.Contains(ct, "spreadsheetml"):
		return xlsxFile(text)
	case strings.HasPrefix(ct, "image/png"):
		return pngFile(name)
	}
	return []byte(text)
}

// pdfFile is a one-page PDF 1.4 showing each line of text in Helvetica,
// with a correct cross-reference table.
func pdfFile(title, text string) []byte {
	esc := strings.NewReplacer(`\`, `\\`, "(", `\(`, ")", `\)`)
	var page strings.Builder
	page.WriteString("BT /F1 11 Tf 72 740 Td 15 TL\n")
	for _, line := range strings.Split(text, "\n") {
		fmt.Fprintf(&page, "(%s) Tj T*\n", esc.Replace(line))
	}
	page.WriteString("ET\n")
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", page.Len(), page.String()),
		fmt.Sprintf("<< /Title (%s) >>", esc.Replace(title)),
	}
	return pdfgen.Document(fmt.Sprintf("/Info %d 0 R", len(objs)), objs...)
}

// zipFile packs files (name, content pairs, in order) with a fixed time.
func zipFile(files ...string) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for i := 0; i+1 < len(files); i += 2 {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: files[i], Method: zip.Deflate, Modified: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			panic(err) // writing to memory does not fail
		}
		_, _ = w.Write([]byte(files[i+1]))
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return b.Bytes()
}

func xmlText(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

const xmlHeader = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n"

// docxFile is a Word document with one paragraph per line of text.
func docxFile(text string) []byte {
	var body strings.Builder
	for _, line := range strings.Split(text, "\n") {
		fmt.Fprintf(&body, `<w:p><w:r><w:t xml:space="preserve">%s</w:t></w:r></w:p>`, xmlText(line))
	}
	return zipFile(
		"[Content_Types].xml", xmlHeader+`<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`,
		"_rels/.rels", xmlHeader+`<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>`,
		"word/document.xml", xmlHeader+`<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>`+body.String()+`</w:body></w:document>`,
	)
}

// xlsxFile is a workbook of one sheet: a row per line of text, a cell per
// comma-separated field, each an inline string.
func xlsxFile(text string) []byte {
	var rows strings.Builder
	for r, line := range strings.Split(text, "\n") {
		fmt.Fprintf(&rows, `<row r="%d">`, r+1)
		for _, cell := range strings.Split(line, ",") {
			fmt.Fprintf(&rows, `<c t="inlineStr"><is><t>%s</t></is></c>`, xmlText(cell))
		}
		rows.WriteString(`</row>`)
	}
	return zipFile(
		"[Content_Types].xml", xmlHeader+`<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>`,
		"_rels/.rels", xmlHeader+`<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
		"xl/workbook.xml", xmlHeader+`<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`,
		"xl/_rels/workbook.xml.rels", xmlHeader+`<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`,
		"xl/worksheets/sheet1.xml", xmlHeader+`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`+rows.String()+`</sheetData></worksheet>`,
	)
}

// pngFile is a small chart-like image whose colours follow from its name.
func pngFile(name string) []byte {
	h := hash64("png", name)
	img := image.NewRGBA(image.Rect(0, 0, 16, 8))
	for x := range 16 {
		c := color.RGBA{uint8(h >> (x % 8 * 8)), 0x55, 0xaa, 0xff}
		for y := 8 - 1 - x%8; y < 8; y++ {
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic(err)
	}
	return b.Bytes()
}
