package tools

import (
	"os"
	"testing"

	"github.com/outlook-mcp/outlook-mcp/extract"
)

// TestMain: read_attachment extracts in a child process of this test
// binary (see extract.RunChildIfRequested).
func TestMain(m *testing.M) {
	extract.RunChildIfRequested()
	os.Exit(m.Run())
}
