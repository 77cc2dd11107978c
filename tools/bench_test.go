package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/outlook-mcp/outlook-mcp/nango"
	"github.com/outlook-mcp/outlook-mcp/sim"
)

// The server's overhead on a tool call, read as a ratio of these two in the
// same run: one search_mail call as a transport hands it to the server (a
// JSON-RPC message in, the encoded response out: arguments, scope gate,
// Graph through the simulated Nango, result, text rendering) against the
// same Graph request made directly and decoded. See BENCHMARKS.md.

func BenchmarkSearchMailTool(b *testing.B) {
	h := newHarness(b)
	msg := json.RawMessage(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"search_mail","arguments":{"limit":10}}}`)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		out, err := json.Marshal(h.server.HandleMessage(ctx, msg))
		if err != nil || !bytes.Contains(out, []byte(`"structuredContent"`)) {
			b.Fatalf("%v %s", err, out)
		}
	}
}

func BenchmarkSearchMailGraphDirect(b *testing.B) {
	s, err := sim.New(mailbox(b), sim.Options{Now: func() time.Time { return testNow }})
	if err != nil {
		b.Fatal(err)
	}
	client := s.Client()
	q := buildDirectQuery(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://nango.test/proxy/v1.0/me/messages?"+q, nil)
		req.Header.Set("Authorization", "Bearer "+sim.DefaultSecretKey)
		req.Header.Set("Provider-Config-Key", "outlook")
		req.Header.Set("Connection-Id", "sandbox")
		req.Header.Set("Nango-Proxy-Prefer", preferImmutableID)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		var page graphPage[graphMessage]
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || json.Unmarshal(data, &page) != nil || len(page.Value) != 10 {
			b.Fatalf("direct request failed: %d %s", resp.StatusCode, data)
		}
	}
}

// buildDirectQuery is the query search_mail sends for {"limit": 10}.
func buildDirectQuery(b *testing.B) string {
	q, err := buildMailQuery(SearchMailArgs{}, 10)
	if err != nil {
		b.Fatal(err)
	}
	return nango.EncodeQuery(q.values)
}
