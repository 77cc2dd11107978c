package extract

import (
	"archive/zip"
	"bytes"
	"cmp"
	"compress/zlib"
	"context"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outlook-mcp/outlook-mcp/extract/extracttest"
)

// Fuzzing. PDF and DOCX go through the sandbox, as in the server: their
// parsers are known to die on some inputs (a stack overflow is no panic),
// which in process would stop the fuzzer at the first hostile seed and
// find nothing we can fix. Through the sandbox, a crash of the fuzzing
// process, an answer after the limits, or text that breaks the sink's
// promises is a bug in our code. A file the sandbox refuses is a correct
// outcome. HTML is read in process, as in the server: any crash is a bug.
//
// The seed corpus is checked in under testdata/fuzz/<target>/ and written
// by TestFuzzCorpus from the builders below (UPDATE_FUZZ_CORPUS=true).

const fuzzChars = 2000

var fuzzLimits = Limits{Memory: 128 << 20, AddressSpace: 256 << 20, CPU: time.Second, Wall: 3 * time.Second}

func FuzzPDF(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) { checkSandboxed(t, PDF, data) })
}

func FuzzDOCX(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) { checkSandboxed(t, DOCX, data) })
}

func FuzzHTML(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := inProcess(context.Background(), HTML, data, fuzzChars)
		if err != nil {
			return // malformed HTML is an error, not a crash
		}
		checkText(t, res, fuzzChars)
		// PlainText has no limit of its own: its text is never longer than its HTML.
		plain := PlainText(string(data))
		checkText(t, &Result{Text: plain, Chars: utf8.RuneCountInString(plain)}, len(data)+1)
		// What a reader never sees stays out, whatever follows it.
		const hidden = "HIDDENPREHEADER"
		if !bytes.Contains(data, []byte(hidden)) {
			assert.NotContains(t, PlainText(`<div style="display:none">`+hidden+`</div><img src="https://t.example/p.gif" width="1" height="1" alt="`+hidden+`">`+string(data)), hidden)
		}
	})
}

func checkSandboxed(t *testing.T, format string, data []byte) {
	start := time.Now()
	res, err := sandboxed(context.Background(), format, data, fuzzChars, fuzzLimits)
	if took := time.Since(start); took > fuzzLimits.Wall+2*time.Second {
		t.Fatalf("answered after %s, beyond the limits", took)
	}
	var unsafe *UnsafeError
	switch {
	case errors.As(err, &unsafe):
		t.Log(unsafe.Reason) // the sandbox did its job
	case err != nil && (strings.Contains(err.Error(), "sandbox") || errors.Is(err, context.DeadlineExceeded)):
		t.Fatal(err)
	case err == nil:
		checkText(t, res, fuzzChars)
	}
}

// checkText holds text to the sink's promises: at most fuzzChars
// characters, counted right, valid UTF-8, no control characters but line
// breaks and tabs, no white space at the ends of lines or of the text, at
// most one blank line in a row.
func checkText(t *testing.T, res *Result, limit int) {
	t.Helper()
	text := res.Text
	if res.Chars != utf8.RuneCountInString(text) || res.Chars > limit || !utf8.ValidString(text) {
		t.Fatalf("%d characters counted, %d in the text (limit %d), valid UTF-8: %v", res.Chars, utf8.RuneCountInString(text), limit, utf8.ValidString(text))
	}
	if strings.Contains(text, "\n\n\n") || strings.TrimSpace(text) != text && strings.Trim(text, " \t\n") != text {
		t.Fatalf("blank lines or white space at the ends: %q", text)
	}
	for i, line := range strings.Split(text, "\n") {
		if strings.TrimRight(line, " \t") != line {
			t.Fatalf("line %d ends in white space: %q", i, line)
		}
	}
	for _, r := range text {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			t.Fatalf("control character %U in %q", r, text)
		}
	}
}

// fuzzSeeds are the seed corpus of each target, by file name.
func fuzzSeeds(t *testing.T) map[string]map[string][]byte {
	pdf := map[string][]byte{
		"valid-two-pages": extracttest.TextPDF("Quarterly report\nRevenue grew 12%.", "Page two"),
		"xref-table-loop": extracttest.PDF("<< /Type /Catalog /Pages 2 0 R >>",
			"<< /Type /Pages /Kids [2 0 R 3 0 R 2 0 R] /Count 1000000000 >>",
			"<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
			extracttest.Stream("", "BT /F1 12 Tf (again) Tj ET\n"), extracttest.Font),
		"deflated-page": extracttest.PDF("<< /Type /Catalog /Pages 2 0 R >>",
			"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
			"<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
			extracttest.Stream("/Filter /FlateDecode", stored(t, "BT /F1 12 Tf (deflated) Tj ET\n")), extracttest.Font),
	}
	for _, h := range extracttest.HostilePDFs() {
		pdf["hostile-"+h.Name] = h.Data
	}
	return map[string]map[string][]byte{
		"FuzzPDF": pdf,
		"FuzzDOCX": {
			"valid": storedZip(t, 0, "word/document.xml", `<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Name</w:t></w:r><w:r><w:tab/><w:t xml:space="preserve">Ann </w:t></w:r></w:p>`+
				`<w:p><w:r><w:t>line one</w:t><w:br/><w:t>line two</w:t></w:r><w:del><w:r><w:delText>gone</w:delText></w:r></w:del></w:p></w:body></w:document>`),
			"claims-a-terabyte": storedZip(t, 1<<40, "word/document.xml", "<w:document/>"),
			"unclosed":          storedZip(t, 0, "word/document.xml", "<w:document><w:p>"),
		},
		"FuzzHTML": {
			"page": []byte(`<html><head><title>Invoice</title><style>p {color: red}</style><script>alert("x")</script></head>
<body><h1>Invoice  #42</h1><p>Dear&nbsp;Ann,<br>see   the <a href="https://contoso.com/pay">payment page</a>.</p>
<ul><li>Item one</li></ul><table><tr><td>Total</td><td>$10</td></tr></table><img alt="logo"><pre>a   b
  c</pre></body></html>`),
			"unclosed": []byte("<div><p>text<pre>\r\n\tindented\u2028<a href=\"http://x\">"),
		},
	}
}

// The seeds are built without compression: a stored zip entry or zlib
// block is the same bytes in every Go version, so the corpus stays current.

// storedZip is a zip of one stored file; size, when not 0, is the
// uncompressed size its header claims.
func storedZip(t *testing.T, size uint64, name, content string) []byte {
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	w, err := z.CreateRaw(&zip.FileHeader{Name: name, Method: zip.Store, CRC32: crc32.ChecksumIEEE([]byte(content)),
		CompressedSize64: uint64(len(content)), UncompressedSize64: cmp.Or(size, uint64(len(content)))})
	require.NoError(t, err)
	_, _ = w.Write([]byte(content))
	require.NoError(t, z.Close())
	return b.Bytes()
}

// stored is content as a zlib stream of stored blocks.
func stored(t *testing.T, content string) string {
	var b bytes.Buffer
	w, err := zlib.NewWriterLevel(&b, zlib.NoCompression)
	require.NoError(t, err)
	_, _ = w.Write([]byte(content))
	require.NoError(t, w.Close())
	return b.String()
}

// TestFuzzCorpus checks the checked-in seed corpus against its builders;
// UPDATE_FUZZ_CORPUS=true rewrites it. Files the fuzzer added (inputs that
// failed once) are left alone: they stay as regression tests.
func TestFuzzCorpus(t *testing.T) {
	update := os.Getenv("UPDATE_FUZZ_CORPUS") == "true"
	for target, seeds := range fuzzSeeds(t) {
		for name, data := range seeds {
			path := filepath.Join("testdata", "fuzz", target, name)
			want := "go test fuzz v1\n[]byte(" + strconv.Quote(string(data)) + ")\n"
			if update {
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, []byte(want), 0o644))
				continue
			}
			got, err := os.ReadFile(path)
			require.NoError(t, err, "run UPDATE_FUZZ_CORPUS=true go test ./extract -run TestFuzzCorpus")
			assert.Equal(t, want, string(got), "%s is stale: run UPDATE_FUZZ_CORPUS=true go test ./extract -run TestFuzzCorpus", path)
		}
	}
}
