package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"

	"github.com/outlook-mcp/outlook-mcp/ops"
)

// Start-up as a client sees it, without the process spawn: build the server
// from configuration (the audit log and metrics included), then answer
// initialize and tools/list. The product
// (real Nango configuration, no network at start) and --sandbox (which also
// loads the sample mailbox) are measured in the same run.

func BenchmarkStartAndListTools(b *testing.B) {
	env := getenv(map[string]string{"NANGO_SECRET_KEY": "9f3c2a1e-7b4d-4c8e-9a6f-2d1b0c9e8f7a", "NANGO_CONNECTION_ID": "c1"})
	benchmarkStart(b, options{}, env)
}

func BenchmarkStartAndListToolsSandbox(b *testing.B) {
	benchmarkStart(b, options{sandbox: true, sandboxScopes: "User.Read Mail.Read"}, getenv(nil))
}

func benchmarkStart(b *testing.B, o options, env func(string) string) {
	ctx := context.Background()
	initialize := json.RawMessage(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}`)
	list := json.RawMessage(`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)
	logger := slog.New(slog.DiscardHandler)
	b.ReportAllocs()
	for b.Loop() {
		o.observer = ops.New(io.Discard, logger) // the audit log and metrics, as run makes them
		s, _, err := newServer(o, env, logger)
		if err != nil {
			b.Fatal(err)
		}
		s.HandleMessage(ctx, initialize)
		if out, _ := json.Marshal(s.HandleMessage(ctx, list)); len(out) < 1000 {
			b.Fatalf("tools/list: %s", out)
		}
	}
}
