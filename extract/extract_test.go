package extract

import (
	"archive/zip"
	"bytes"
	"context"
	"hash/crc32"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outlook-mcp/outlook-mcp/extract/extracttest"
)

// extractAll extracts up to limit characters of data.
func extractAll(t *testing.T, format string, data []byte, limit int) (string, *textSink, error) {
	t.Helper()
	sink := newTextSink(limit)
	start := time.Now()
	note, err := extract(context.Background(), format, data, sink)
	assert.Less(t, time.Since(start), 5*time.Second, "extraction must stay cheap on hostile input")
	return note, sink, err
}

func TestExtractPDFSurvivesHostileFiles(t *testing.T) {
	// Not a PDF at all.
	_, _, err := extractAll(t, PDF, []byte("%PDF-1.4\nthis is not a pdf"), 1000)
	assert.ErrorContains(t, err, "not a readable PDF")

	// A content stream the parser cannot decode makes it panic: the page
	// is reported, not the server brought down.
	broken := extracttest.PDF("<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
		extracttest.Stream("/Filter /NoSuchFilter", "BT /F1 12 Tf (hidden) Tj ET\n"), extracttest.Font)
	_, _, err = extractAll(t, PDF, broken, 1000)
	assert.EqualError(t, err, "no page of the PDF could be read")

	// A page tree that contains itself and claims a billion pages ends.
	loop := extracttest.PDF("<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [2 0 R 3 0 R 2 0 R] /Count 1000000000 >>",
		"<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
		extracttest.Stream("", "BT /F1 12 Tf (again) Tj ET\n"), extracttest.Font)
	_, sink, err := extractAll(t, PDF, loop, 1_000_000)
	require.NoError(t, err)
	assert.LessOrEqual(t, strings.Count(sink.b.String(), "again"), maxPDFPages)
}

func TestExtractPDFStopsOnceItHasEnoughText(t *testing.T) {
	line := "BT /F1 12 Tf (" + strings.Repeat("x", 80) + ") Tj ET\n"
	pdf := extracttest.PDF("<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R 3 0 R 3 0 R] /Count 3 >>",
		"<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
		extracttest.Stream("", strings.Repeat(line, 1000)), extracttest.Font)
	_, sink, err := extractAll(t, PDF, pdf, 100)
	require.NoError(t, err)
	assert.True(t, sink.full)
	assert.Equal(t, 100, sink.n)
}

func TestExtractWordDocument(t *testing.T) {
	doc := wordDoc(t, `<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr><w:r><w:t>Name</w:t></w:r><w:r><w:tab/><w:t xml:space="preserve">Ann </w:t></w:r></w:p>`+
		`<w:p><w:r><w:t>line one</w:t><w:br/><w:t>line two</w:t></w:r><w:del><w:r><w:delText>gone</w:delText></w:r></w:del></w:p>`)
	_, sink, err := extractAll(t, DOCX, doc, 1000)
	require.NoError(t, err)
	assert.Equal(t, "Name\tAnn\nline one\nline two", sink.b.String(), "a tab stop definition is no tab; deleted text is left out")

	// Much text stops at the limit, without reading the rest.
	big := wordDoc(t, strings.Repeat("<w:p><w:r><w:t>"+strings.Repeat("all work and no play ", 50)+"</w:t></w:r></w:p>", 20000))
	_, sink, err = extractAll(t, DOCX, big, 5000)
	require.NoError(t, err)
	assert.True(t, sink.full)
	assert.Equal(t, 5000, sink.n)

	// A zip whose document.xml claims to be a terabyte is not opened.
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	body := []byte("<w:document/>")
	w, err := z.CreateRaw(&zip.FileHeader{Name: "word/document.xml", Method: zip.Store, CRC32: crc32.ChecksumIEEE(body),
		CompressedSize64: uint64(len(body)), UncompressedSize64: 1 << 40})
	require.NoError(t, err)
	_, _ = w.Write(body)
	require.NoError(t, z.Close())
	_, _, err = extractAll(t, DOCX, b.Bytes(), 1000)
	assert.ErrorContains(t, err, "too large to read")

	_, _, err = extractAll(t, DOCX, []byte("PK\x03\x04 not really"), 1000)
	assert.ErrorContains(t, err, "not a readable Word document")
	_, _, err = extractAll(t, DOCX, zipOf(t, "word/other.xml", "<x/>"), 1000)
	assert.EqualError(t, err, "not a Word document: it has no word/document.xml")
	_, _, err = extractAll(t, DOCX, zipOf(t, "word/document.xml", "<w:document><w:p>"), 1000)
	assert.ErrorContains(t, err, "the Word document is malformed")
}

func wordDoc(t *testing.T, body string) []byte {
	return zipOf(t, "word/document.xml", `<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>`+body+`</w:body></w:document>`)
}

func zipOf(t *testing.T, name, content string) []byte {
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	w, err := z.Create(name)
	require.NoError(t, err)
	_, _ = w.Write([]byte(content))
	require.NoError(t, z.Close())
	return b.Bytes()
}

func TestExtractHTML(t *testing.T) {
	page := `<html><head><title>Invoice</title><style>p {color: red}</style><script>alert("x")</script></head>
<body><h1>Invoice  #42</h1><p>Dear&nbsp;Ann,<br>see   the
<a href="https://contoso.com/pay">payment page</a> or <a href="https://contoso.com">https://contoso.com</a>.</p>
<ul><li>Item one</li><li>Item two</li></ul><table><tr><td>Total</td><td>$10</td></tr></table><img src="cid:x" alt="logo"><pre>a   b
  c</pre></body></html>`
	_, sink, err := extractAll(t, HTML, []byte(page), 10000)
	require.NoError(t, err)
	assert.Equal(t, "Invoice #42\n\nDear Ann,\nsee the payment page <https://contoso.com/pay> or https://contoso.com.\n\n- Item one\n- Item two\n\nTotal\t$10\n\n[logo]\na   b\n  c", sink.b.String())
}

func TestTextSinkNormalisesWhiteSpace(t *testing.T) {
	s := newTextSink(100)
	require.NoError(t, s.write("  \r\n a \r\n\r\n\r\n\n b\x00\t \n"))
	require.NoError(t, s.write("c\rd \u00a0e\n"))
	assert.Equal(t, "a\n\n b\nc\nd  e", s.b.String())
	assert.False(t, s.full)
	res := s.result("")
	assert.Equal(t, 12, res.Chars)

	s = newTextSink(3)
	assert.ErrorIs(t, s.write("abcd"), errSinkFull)
	assert.True(t, s.full)
	assert.Equal(t, "abc", s.b.String())
}

func TestDecodeText(t *testing.T) {
	assert.Equal(t, "café", decodeText([]byte("\xef\xbb\xbfcafé")))
	assert.Equal(t, "café", decodeText([]byte("caf\xe9")), "Latin-1 when not UTF-8")
	assert.Equal(t, "a,b", decodeText([]byte("\xff\xfea\x00,\x00b\x00")), "UTF-16LE")
	assert.Equal(t, "a,b", decodeText([]byte("\xfe\xff\x00a\x00,\x00b")), "UTF-16BE")
}

func TestFormatOf(t *testing.T) {
	for _, tc := range []struct{ name, contentType, want string }{
		{"report.pdf", "application/pdf", PDF},
		{"report.pdf", "application/octet-stream", PDF},
		{"Plan.DOCX", "", DOCX},
		{"x", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", DOCX},
		{"page", "TEXT/HTML; charset=utf-8", HTML},
		{"invite.ics", "application/octet-stream", Calendar},
		{"data.csv", "application/vnd.ms-excel", Text},
		{"notes", "text/plain; charset=utf-8", Text},
		{"data", "application/vnd.api+json", Text},
		{"photo.png", "image/png", ""},
		{"archive.zip", "application/zip", ""},
		{"sheet.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ""},
	} {
		assert.Equal(t, tc.want, FormatOf(tc.name, tc.contentType), "%s %s", tc.name, tc.contentType)
	}
}

func TestPlainTextLeavesOutWhatAReaderNeverSees(t *testing.T) {
	got := PlainText(`<div style="display: none; max-height:0">Preheader: open now!</div>` +
		`<span style="DISPLAY:NONE">hidden</span><p hidden>also hidden</p><div aria-hidden="true">and this</div>` +
		`<img src="https://t.contoso.com/o.gif" width="1" height="1" alt="pixel"><img src="https://t.contoso.com/o2.gif">` +
		`<div style="display:none"><div>nested</div> still hidden</div>` +
		`<p>Hello <a href="https://contoso.com/story?id=7&amp;utm_source=digest&amp;utm_medium=email">the story</a>.</p>` +
		`<p><img src="logo.png" alt="Contoso"> <a href="https://contoso.com/?utm_campaign=x">home</a></p>` +
		`<p style="font-size:0.9em; max-height: 100px; opacity: 0.5">Small print stays.</p><span style="font-size: 0 !important">gone</span>`)
	assert.Equal(t, "Hello the story <https://contoso.com/story?id=7>.\n\n[Contoso] home <https://contoso.com/>\n\nSmall print stays.", got)
}
