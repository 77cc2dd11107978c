package tools

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/require"

	"github.com/outlook-mcp/outlook-mcp/sim"
)

// TestMeasureWhatTheModelReads prints, with -v, the o200k tokens of the
// answers BENCHMARKS.md records: tools/list, and get_message (default
// arguments) on the longest reply of the hand-written fixture, on the
// longest of the 60-message thread and on the 200 KB newsletter.
//
//	go test ./tools -run MeasureWhatTheModelReads -v
func TestMeasureWhatTheModelReads(t *testing.T) {
	h := newHarness(t)
	list, err := h.client.ListTools(t.Context(), mcp.ListToolsRequest{})
	require.NoError(t, err)
	data, _ := json.Marshal(list.Tools)
	t.Logf("tools/list: %d o200k tokens, %d characters", o200k(t, string(data)), len(data))

	// The longest reply: the one whose whole body (quotes included) is longest.
	all := newHarness(t, withDeps(func(d *Deps) { d.MaxResponseTokens = 1 << 30 }))
	longest, size := "", 0
	for _, folder := range []string{"inbox", "sentitems", "drafts", "deleteditems"} {
		for _, m := range all.inFolder(folder) {
			if !strings.HasPrefix(m.Subject, "RE:") && !strings.HasPrefix(m.Subject, "FW:") {
				continue
			}
			var full MessageResult
			all.ok("get_message", map[string]any{"id": m.ID, "include_quoted": true, "max_chars": 100_000}, &full)
			if len(full.Body) > size {
				longest, size = m.ID, len(full.Body)
			}
		}
	}
	for _, m := range []struct{ name, id string }{
		{"longest reply", longest},
		{"60th message of the long thread", sim.LargeThreadMessageID(60)},
		{"200 KB newsletter", sim.LargeNewsletterID},
	} {
		text, structured := responseSize(t, h.call("get_message", map[string]any{"id": m.id}))
		t.Logf("get_message on the %s (%s): text %d, structuredContent %d o200k tokens", m.name, m.id, o200k(t, text), o200k(t, structured))
	}
}
