package main

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outlook-mcp/outlook-mcp/handles"
)

// A conversation outlives a stdio process: the short ids a server showed
// still work in the next process on the same state directory, and two
// processes open at once share it.
func TestE2EHandlesLastAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	start := func() mcpClient {
		c, err := client.NewStdioMCPClientWithOptions(serverBinary(t), nil, []string{"--sandbox", "--state-dir", dir})
		require.NoError(t, err)
		return newMCPGoClient(t, c, true)
	}
	first := &env{transport: "stdio", c: start()}
	other := &env{transport: "stdio", c: start()} // open at the same time, on the same file
	res := first.ok(t, "search_mail", map[string]any{"limit": 5})
	assert.NotRegexp(t, regexp.MustCompile(`AA[A-Za-z0-9_=+/-]{30,}`), res.text, "no Graph id in the text")
	id, _ := messagesOf(t, res)[0]["id"].(string)
	require.True(t, handles.Valid(id), id)
	assert.Contains(t, res.text, id)
	assert.Equal(t, id, messagesOf(t, other.ok(t, "search_mail", map[string]any{"limit": 5}))[0]["id"], "both processes show one handle")
	require.NoError(t, first.c.close())
	require.NoError(t, other.c.close())
	_, err := os.Stat(filepath.Join(dir, handles.FileName))
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(dir, handles.FileName+"-wal"))
	assert.ErrorIs(t, err, os.ErrNotExist, "the processes closed the store at exit: its write-ahead log is folded in")

	again := &env{transport: "stdio", c: start()}
	read := again.ok(t, "get_message", map[string]any{"id": id})
	assert.Equal(t, id, read.structured["id"])
	assert.Contains(t, again.fails(t, "get_message", map[string]any{"id": "m7fk2q9xa3"}), `Invalid argument "id": unknown handle m7fk2q9xa3`)
}

// Without a state directory the sandbox keeps its ids in memory: trying
// it leaves nothing behind.
func TestE2ESandboxLeavesNoState(t *testing.T) {
	home := t.TempDir()
	c, err := client.NewStdioMCPClientWithOptions(serverBinary(t), []string{"OUTLOOK_MCP_STATE_DIR=", "XDG_CACHE_HOME=" + home, "HOME=" + home}, []string{"--sandbox"})
	require.NoError(t, err)
	e := &env{transport: "stdio", c: newMCPGoClient(t, c, true)}
	e.ok(t, "search_mail", map[string]any{"limit": 5})
	require.NoError(t, e.c.close())
	entries, err := os.ReadDir(home)
	require.NoError(t, err)
	assert.Empty(t, entries)
}
