package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outlook-mcp/outlook-mcp/extract/extracttest"
	"github.com/outlook-mcp/outlook-mcp/sim"
)

// TestE2EHostilePDFsOverHTTP: the built binary serves HTTP, backed by a
// simulated Nango on a loopback port whose mailbox holds a message with the
// four hostile PDFs (added at run time: the sample mailbox never holds
// them). Client A reads each one and gets a tool error; client B's session,
// open all along, keeps working, also while a child spins; the server
// process is alive at the end and has no child left.
func TestE2EHostilePDFsOverHTTP(t *testing.T) {
	t.Parallel()
	s, err := sim.New(fixture(t), sim.Options{})
	require.NoError(t, err)
	const messageID = "AAMkAGhvc3RpbGUtZTJlLW1lc3NhZ2U="
	require.NoError(t, s.AddMessage(extracttest.HostileMessage(messageID)))
	nango := httptest.NewServer(s)
	t.Cleanup(nango.Close)

	srv := startBinary(t, []string{"NANGO_HOST=" + nango.URL, "NANGO_SECRET_KEY=" + sim.DefaultSecretKey, "NANGO_CONNECTION_ID=sandbox"})
	server, base := srv.cmd, srv.base
	b := &env{transport: "http", c: connectHTTP(t, "http", "mcp-go", base, "")}
	searchWorks := func() {
		t.Helper()
		assert.NotEmpty(t, messagesOf(t, b.ok(t, "search_mail", map[string]any{"limit": 5})))
	}
	searchWorks()

	a := &env{transport: "sse", c: connectHTTP(t, "sse", "go-sdk", base, "")}
	var list struct {
		Attachments []struct{ ID, Name string }
	}
	decode(t, a.ok(t, "list_attachments", map[string]any{"message_id": messageID}).structured, &list)
	require.Len(t, list.Attachments, 4)
	want := map[string]string{
		"objstm-cycle.pdf":        "its reader crashed (stack overflow",
		"xref-size.pdf":           "it needed too much memory",
		"xref-index.pdf":          "it needed too much memory",
		"objstm-extends-self.pdf": "reading it took too long",
	}
	for _, att := range list.Attachments {
		var wg sync.WaitGroup
		if att.Name == "objstm-extends-self.pdf" {
			// B is served while A's child spins (up to its 10 s of CPU).
			wg.Go(func() {
				time.Sleep(500 * time.Millisecond)
				searchWorks()
			})
		}
		// Longer than a call's usual bound: a spinning child has 10 s of
		// CPU, and at most 15 s of wall clock.
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		start := time.Now()
		res, err := a.c.callTool(ctx, "read_attachment", map[string]any{"message_id": messageID, "attachment_id": att.ID})
		cancel()
		require.NoError(t, err, att.Name)
		t.Logf("%s after %s: %s", att.Name, time.Since(start).Round(time.Millisecond), res.text)
		assert.True(t, res.isError, att.Name)
		assert.Regexp(t, `this PDF \(⟦data [a-z2-7]{6}⟧`+regexp.QuoteMeta(att.Name)+`⟦end [a-z2-7]{6}⟧\) could not be read safely: `+regexp.QuoteMeta(want[att.Name]), res.text, "the sender's file name fenced")
		wg.Wait()
		assert.Empty(t, extracttest.Children(server.Process.Pid), "the child is gone")
	}

	searchWorks()
	resp, err := http.Get(base + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	if runtime.GOOS != "windows" { // no signal 0 there; the calls above show it alive
		assert.NoError(t, server.Process.Signal(syscall.Signal(0)), "the server process is alive")
	}
}

// decode turns a tool's structured content into out.
func decode(t *testing.T, structured map[string]any, out any) {
	t.Helper()
	data, err := json.Marshal(structured)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, out))
}
