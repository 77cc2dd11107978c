package extract

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/outlook-mcp/outlook-mcp/extract/extracttest"
)

// The sandbox's cost on a normal PDF: the same file read in process and
// through a child process (start, limits, pipes, JSON). See BENCHMARKS.md.

func benchPDF(pages int) []byte {
	text := make([]string, pages)
	for i := range text {
		text[i] = strings.TrimSpace(strings.Repeat(fmt.Sprintf("Page %d: the quarterly numbers, line by line.\n", i+1), 40))
	}
	return extracttest.TextPDF(text...)
}

func BenchmarkPDF(b *testing.B) {
	for _, pages := range []int{2, 100} {
		pdf := benchPDF(pages)
		for _, how := range []string{"in-process", "sandboxed"} {
			b.Run(fmt.Sprintf("pages=%d/%s", pages, how), func(b *testing.B) {
				b.SetBytes(int64(len(pdf)))
				for b.Loop() {
					var err error
					if how == "sandboxed" {
						_, err = sandboxed(context.Background(), PDF, pdf, 100_000, DefaultLimits)
					} else {
						_, err = inProcess(context.Background(), PDF, pdf, 100_000)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
