// Package extracttest builds files for the tests of extract and of the
// tools that use it: small valid PDFs, and the hostile PDFs that took the
// server down before extraction ran in a sandbox. Nothing is downloaded:
// each file is written here, byte by byte, so a reader can see what makes
// it hostile.
package extracttest

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/outlook-mcp/outlook-mcp/internal/pdfgen"
)

// PDF writes a PDF with the given objects (1 0 obj is the catalog) and a
// correct cross-reference table.
func PDF(objs ...string) []byte {
	return pdfgen.Document("", objs...)
}

// Stream is a stream object with the given dictionary entries.
func Stream(dict, content string) string {
	return fmt.Sprintf("<< /Length %d %s >>\nstream\n%sendstream", len(content), dict, content)
}

// Font is a standard font, enough for a page's text to be read.
const Font = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"

// TextPDF is a valid PDF with one page per string, each showing its lines.
func TextPDF(pages ...string) []byte {
	kids := make([]string, len(pages))
	objs := []string{"<< /Type /Catalog /Pages 2 0 R >>", "", Font}
	for i, text := range pages {
		var content strings.Builder
		content.WriteString("BT /F1 12 Tf 72 720 Td 14 TL\n")
		for _, line := range strings.Split(text, "\n") {
			fmt.Fprintf(&content, "(%s) Tj T*\n", strings.NewReplacer(`\`, `\\`, "(", `\(`, ")", `\)`).Replace(line))
		}
		content.WriteString("ET\n")
		page := len(objs) + 1
		kids[i] = fmt.Sprintf("%d 0 R", page)
		objs = append(objs,
			fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>", page+1),
			Stream("", content.String()))
	}
	objs[1] = fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(pages))
	return PDF(objs...)
}

// Hostile is a PDF that made the server die or spin when read in process.
type Hostile struct {
	Name   string // also its seed's file name in the fuzz corpus
	Data   []byte
	Damage string // what the parser did with it in the server's process
}

// HostilePDFs are four files of a few hundred bytes each that took the
// whole server down (or kept a core busy for ever) before the sandbox.
func HostilePDFs() []Hostile {
	return []Hostile{
		{"objstm-cycle", objectStreamCycle(), "fatal error: stack overflow"},
		{"xref-size", xrefHugeSize(), "fatal error: out of memory"},
		{"xref-index", xrefHugeIndex(), "fatal error: out of memory"},
		{"objstm-extends-self", objectStreamExtendsItself(), "an endless loop"},
	}
}

// row is an entry of a cross-reference stream (W [1 4 2]): type 1 is an
// object at offset a; type 2 is object number b inside object stream a.
type row struct{ typ, a, b int }

// xrefStreamPDF writes the given objects (numbered from 1) and then a
// cross-reference stream, the last object, with rows, dict entries and
// an entry for itself at the end. rows may refer to offsets[i] through
// a = -(i+1) and to the stream itself through a = -1000.
func xrefStreamPDF(objs []string, rows []row, dict string) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	self := b.Len()
	var data bytes.Buffer
	for _, r := range append(rows, row{1, -1000, 0}) {
		a := r.a
		switch {
		case a == -1000:
			a = self
		case a < 0:
			a = offsets[-a-1]
		}
		data.Write([]byte{byte(r.typ), byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a), byte(r.b >> 8), byte(r.b)})
	}
	fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", len(objs)+1,
		Stream("/Type /XRef /W [1 4 2] /Root 1 0 R "+dict, data.String()+"\n"))
	fmt.Fprintf(&b, "startxref\n%d\n%%%%EOF\n", self)
	return b.Bytes()
}

// objectStreamCycle: the catalog is in object stream 2, which is itself
// in object stream 3, which is in object stream 2. To find the catalog the
// parser looks up stream 2, then 3, then 2... recursively, until the
// goroutine's stack (1 GB by default) is exhausted: a fatal error.
func objectStreamCycle() []byte {
	return xrefStreamPDF(nil, []row{{0, 0, 0xffff}, {2, 2, 0}, {2, 3, 0}, {2, 2, 0}}, "/Size 5")
}

// xrefHugeSize: a cross-reference stream claiming two billion objects.
// The parser allocates its table at once (2e9 entries of 32 bytes: 64 GB):
// the runtime cannot, and dies.
func xrefHugeSize() []byte {
	return xrefStreamPDF(nil, []row{{0, 0, 0xffff}}, "/Size 2000000000 /Index [0 1]")
}

// xrefHugeIndex: a small table whose /Index puts its one row at object
// number two billion: the parser grows its table to reach it (64 GB).
func xrefHugeIndex() []byte {
	return xrefStreamPDF(nil, []row{{0, 0, 0xffff}}, "/Size 2 /Index [2000000000 1]")
}

// objectStreamExtendsItself: the catalog is in object stream 2, which does
// not hold it and /Extends itself. The parser follows /Extends to look
// further, for ever, without checking any deadline.
func objectStreamExtendsItself() []byte {
	return xrefStreamPDF([]string{
		"<< /Type /Catalog /Pages 3 0 R >>", // never reached: the xref says 1 is in stream 2
		Stream("/Type /ObjStm /N 1 /First 4 /Extends 2 0 R", "9 0 null\n"),
	}, []row{{0, 0, 0xffff}, {2, 2, 0}, {1, -2, 0}}, "/Size 4")
}

// DeflatedTextPDF is a valid PDF whose one page shows a string of n
// characters, deflated to a file of about n/1000 bytes: reading it takes
// memory in proportion to n, not to the file's size.
func DeflatedTextPDF(n int) []byte {
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	w.Write([]byte("BT /F1 12 Tf 72 720 Td ("))
	chunk := bytes.Repeat([]byte("all work and no play "), 1000)
	for written := 0; written < n; written += len(chunk) {
		w.Write(chunk)
	}
	w.Write([]byte(") Tj ET\n"))
	w.Close()
	return PDF("<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
		Stream("/Filter /FlateDecode", z.String()), Font)
}

// HostileMessage is a message with the named hostile PDFs attached (all
// four when none is named, each as name.pdf), in the format of the sample
// mailbox's "messages", for sim.AddMessage.
func HostileMessage(id string, names ...string) []byte {
	var attachments []map[string]any
	for _, h := range HostilePDFs() {
		if len(names) == 0 || slices.Contains(names, h.Name) {
			attachments = append(attachments, map[string]any{"name": h.Name + ".pdf", "contentType": "application/pdf",
				"contentBytes": base64.StdEncoding.EncodeToString(h.Data)})
		}
	}
	msg, err := json.Marshal(map[string]any{"id": id, "folder": "inbox", "receivedDateTime": "-1m",
		"from": "Mallory <mallory@example.net>", "subject": "Invoices", "body": "<p>See the attached invoices.</p>",
		"attachments": attachments})
	if err != nil {
		panic(err)
	}
	return msg
}

// Children lists the process ids of pid's children (Linux; nil elsewhere):
// a test can check that a sandboxed child is gone.
func Children(pid int) []string {
	files, _ := filepath.Glob(filepath.Join("/proc", strconv.Itoa(pid), "task", "*", "children"))
	var pids []string
	for _, f := range files {
		if data, err := os.ReadFile(f); err == nil {
			pids = append(pids, strings.Fields(string(data))...)
		}
	}
	return pids
}
