// Package pdfgen writes small PDF files: the sandbox's sample attachments
// and the tests' hostile PDFs are built the same way.
package pdfgen

import (
	"bytes"
	"fmt"
)

// Document writes a PDF 1.4 file of the given objects (object 1 is the
// catalog) with a correct cross-reference table. trailer holds further
// trailer entries, e.g. "/Info 6 0 R", or is empty.
func Document(trailer string, objs ...string) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	if trailer != "" {
		trailer = " " + trailer
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, trailer, xref)
	return b.Bytes()
}
