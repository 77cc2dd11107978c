package transport

import (
	"bytes"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSessionIDsNeverReachTheLogs(t *testing.T) {
	id, err := newSessionID(t.Context(), nil)
	require.NoError(t, err)
	require.Regexp(t, `^sse-[0-9a-f]{32}$`, id)
	other, _ := newSessionID(t.Context(), nil)
	require.NotEqual(t, id, other)

	var out bytes.Buffer
	logger := slog.New(RedactSessionIDs(slog.NewTextHandler(&out, nil)))
	// What mcp-go writes: through the standard log package...
	std := log.New(LogWriter(logger), "", 0)
	std.Printf("panic recovered in SSE message handler for session %s: %v", id, "boom")
	// ... and as attributes of its request log, in errors, in groups.
	logger.Info("mcp.request", "mcp.session.id", id, "mcp.method", "tools/list")
	logger.Error("failed", "err", fmt.Errorf("session not found: %s", id))
	logger.With("session", id).WithGroup("g").Info("x", slog.Group("inner", "id", id), "other", other)
	logger.Info("endpoint /message?sessionId=" + id)

	logs := out.String()
	assert.NotContains(t, logs, id)
	assert.NotContains(t, logs, other)
	assert.NotContains(t, logs, id[4:], "not even the random part")
	assert.Contains(t, logs, "panic recovered in SSE message handler for session sse#")
	assert.Contains(t, logs, "mcp.method=tools/list", "the rest of the line stays")
	// The same session has the same digest: its lines can be followed.
	digest := regexp.MustCompile(`sse#[0-9a-f]{8}`).FindString(logs)
	assert.Equal(t, 6, bytes.Count(out.Bytes(), []byte(digest)), logs)
	assert.NotContains(t, redact(other), digest)

	// Errors without ids keep their value.
	out.Reset()
	logger.Error("x", "err", errors.New("plain"), "n", 3)
	assert.Contains(t, out.String(), "err=plain n=3")
}
