package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The official MCP TypeScript SDK (what Claude Desktop, VS Code and the
// Inspector are built on) as a client of the built binary, over streamable
// HTTP and SSE: e2e/tsclient/client.mjs runs a plan and prints the answers.

type tsPlan struct {
	URL       string            `json:"url"`
	Transport string            `json:"transport"`
	Headers   map[string]string `json:"headers,omitempty"`
	Calls     []tsCall          `json:"calls,omitempty"`
}

type tsCall struct {
	Name      string         `json:"name"`
	Arguments map[string]any `json:"arguments,omitempty"`
}

type tsOutcome struct {
	Error   string   `json:"error"`
	Tools   []string `json:"tools"`
	Results []struct {
		IsError           bool           `json:"isError"`
		Text              string         `json:"text"`
		StructuredContent map[string]any `json:"structuredContent"`
		ProtocolError     string         `json:"protocolError"`
	} `json:"results"`
}

// tsClient finds node and the installed SDK: it skips locally when either
// is missing, and fails in CI, which installs both (.ci/run).
func tsClient(t *testing.T) (node, script string) {
	t.Helper()
	dir, err := filepath.Abs("e2e/tsclient")
	require.NoError(t, err)
	node, err = exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(dir, "node_modules", "@modelcontextprotocol", "sdk", "package.json"))
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the TypeScript SDK client is missing in CI: %v", err)
		}
		t.Skipf("the TypeScript SDK client is not installed (%v): install Node.js, then run npm ci --prefix e2e/tsclient", err)
	}
	return node, filepath.Join(dir, "client.mjs")
}

func runTS(t *testing.T, plan tsPlan) tsOutcome {
	t.Helper()
	node, script := tsClient(t)
	data, err := json.Marshal(plan)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	out, _ := exec.CommandContext(ctx, node, script, string(data)).Output()
	var o tsOutcome
	require.NoError(t, json.Unmarshal(out, &o), "the client printed: %s", out)
	return o
}

func TestE2ETypeScriptSDK(t *testing.T) {
	tsClient(t)
	const token = "0123456789abcdef0123456789abcdef-ts"
	srv := startBinary(t, []string{"OUTLOOK_MCP_TOKEN=" + token}, "--sandbox")
	for _, tr := range []struct{ name, path string }{{"http", "/mcp"}, {"sse", "/sse"}} {
		t.Run(tr.name, func(t *testing.T) {
			o := runTS(t, tsPlan{URL: srv.base + tr.path, Transport: tr.name,
				Headers: map[string]string{"Authorization": "Bearer " + token},
				Calls: []tsCall{
					{Name: "search_mail", Arguments: map[string]any{"folder": "inbox", "limit": 3}},
					{Name: "get_event", Arguments: map[string]any{"event_id": "%2e%2e"}},
					{Name: "send_mail", Arguments: map[string]any{"to": []string{"ann.fischer@contoso.com"}, "subject": "x", "body": "b", "cc": make([]string, 501)}},
				}})
			require.Empty(t, o.Error)
			assert.Len(t, o.Tools, 29)
			require.Len(t, o.Results, 3)
			assert.False(t, o.Results[0].IsError, o.Results[0].Text)
			assert.Len(t, o.Results[0].StructuredContent["messages"], 3)
			assert.True(t, o.Results[1].IsError)
			assert.Contains(t, o.Results[1].Text, `Invalid argument "event_id"`)
			assert.True(t, o.Results[2].IsError)
			assert.Contains(t, o.Results[2].Text, `Invalid argument "cc": has too many items`)

			o = runTS(t, tsPlan{URL: srv.base + tr.path, Transport: tr.name})
			assert.NotEmpty(t, o.Error, "without the token the SDK cannot connect")
		})
	}
}
