package sim

import (
	"archive/zip"
	"bytes"
	"image/png"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A described file is made the same each time, as a real file of its type.
func TestRenderedFilesAreRealAndDeterministic(t *testing.T) {
	for _, ct := range []string{"application/pdf", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
		"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "image/png", "text/csv"} {
		a, b := renderFile(ct, "notes", "first line (with parentheses)\nsecond, line"), renderFile(ct, "notes", "first line (with parentheses)\nsecond, line")
		assert.Equal(t, a, b, ct)
		switch ct {
		case "application/pdf":
			assert.True(t, bytes.HasPrefix(a, []byte("%PDF-1.4\n")), ct)
			assert.Contains(t, string(a), `(first line \(with parentheses\)) Tj`)
			assert.True(t, bytes.HasSuffix(a, []byte("%%EOF\n")), ct)
		case "image/png":
			_, err := png.Decode(bytes.NewReader(a))
			assert.NoError(t, err)
		case "text/csv":
			assert.Equal(t, "first line (with parentheses)\nsecond, line", string(a))
		default:
			_, err := zip.NewReader(bytes.NewReader(a), int64(len(a)))
			require.NoError(t, err, ct)
		}
	}
}
