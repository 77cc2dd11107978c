package tools

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/stretchr/testify/require"

	"github.com/outlook-mcp/outlook-mcp/handles"
	"github.com/outlook-mcp/outlook-mcp/nango"
	"github.com/outlook-mcp/outlook-mcp/sim"
)

// testNow is the simulator's clock in tests: fixture times are relative to it.
var testNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

var (
	fixtureOnce sync.Once
	fixture     []byte
)

func mailbox(t testing.TB) []byte {
	fixtureOnce.Do(func() {
		var err error
		fixture, err = os.ReadFile("../testdata/mailbox.json")
		require.NoError(t, err)
	})
	return fixture
}

// harness is the real server, wired to the simulator, driven by mcp-go's
// in-process client: what a user's MCP host sees, without the transport.
type harness struct {
	t      testing.TB
	sim    *sim.Sim
	server *server.MCPServer
	client *client.Client
	ids    handles.Store // the server's handles
}

// harnessConfig is what a test may adjust before the server starts.
type harnessConfig struct {
	sim   sim.Options
	nango nango.Config
	deps  Deps
	tools []Tool
}

type harnessOption func(*harnessConfig)

func withScopes(scopes ...string) harnessOption {
	return func(c *harnessConfig) { c.sim.Scopes = scopes }
}

func withSim(f func(*sim.Options)) harnessOption {
	return func(c *harnessConfig) { f(&c.sim) }
}

func withNango(f func(*nango.Config)) harnessOption {
	return func(c *harnessConfig) { f(&c.nango) }
}

func withDeps(f func(*Deps)) harnessOption {
	return func(c *harnessConfig) { f(&c.deps) }
}

func withTools(tools []Tool) harnessOption {
	return func(c *harnessConfig) { c.tools = tools }
}

func newHarness(t testing.TB, opts ...harnessOption) *harness {
	const connID = "sandbox" // the simulator's default connection
	cfg := harnessConfig{
		sim: sim.Options{Now: func() time.Time { return testNow }},
		nango: nango.Config{
			Host: "https://nango.test", SecretKey: sim.DefaultSecretKey, IntegrationID: "outlook",
			Backoff: time.Millisecond,
		},
		deps:  Deps{DefaultConnection: connID},
		tools: All(),
	}
	for _, o := range opts {
		o(&cfg)
	}
	s, err := sim.New(mailbox(t), cfg.sim)
	require.NoError(t, err)
	cfg.nango.HTTPClient = s.Client()
	cfg.deps.Nango, err = nango.New(cfg.nango)
	require.NoError(t, err)
	if cfg.deps.Handles == nil {
		cfg.deps.Handles = handles.NewMemory()
	}
	srv := NewServer("test", cfg.deps, cfg.tools)
	c, err := client.NewInProcessClient(srv)
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, c.Start(ctx))
	_, err = c.Initialize(ctx, mcp.InitializeRequest{Params: mcp.InitializeParams{ProtocolVersion: mcp.LATEST_PROTOCOL_VERSION}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return &harness{t: t, sim: s, server: srv, client: c, ids: cfg.deps.Handles}
}

// graphID is the Graph id a handle the default connection got stands for.
func (h *harness) graphID(handle string) string {
	h.t.Helper()
	id, ok, err := h.ids.Resolve(context.Background(), handles.Scope{Integration: "outlook", Connection: "sandbox"}, handle)
	require.NoError(h.t, err)
	require.True(h.t, ok, "%s is not a handle of the sandbox connection", handle)
	return id
}

// call invokes a tool and fails the test on a protocol error (a tool error
// is a result, not a protocol error).
func (h *harness) call(name string, args map[string]any) *mcp.CallToolResult {
	h.t.Helper()
	res, err := h.client.CallTool(context.Background(), mcp.CallToolRequest{Params: mcp.CallToolParams{Name: name, Arguments: args}})
	require.NoError(h.t, err, "tools/call %s", name)
	return res
}

// ok calls a tool that must succeed and decodes its structured content into out.
func (h *harness) ok(name string, args map[string]any, out any) string {
	h.t.Helper()
	res := h.call(name, args)
	require.False(h.t, res.IsError, "%s failed: %s", name, textOf(res))
	if out != nil {
		data, err := json.Marshal(res.StructuredContent)
		require.NoError(h.t, err)
		require.NoError(h.t, json.Unmarshal(data, out))
	}
	return textOf(res)
}

// fails calls a tool that must return a tool error and returns its text.
func (h *harness) fails(name string, args map[string]any) string {
	h.t.Helper()
	res := h.call(name, args)
	require.True(h.t, res.IsError, "%s should fail, got: %s", name, textOf(res))
	return textOf(res)
}

// graph returns the Graph requests (as Graph saw them) whose path starts with prefix.
func (h *harness) graph(prefix string) []sim.Request {
	var out []sim.Request
	for _, r := range h.sim.Requests() {
		if r.Proxy && strings.HasPrefix(r.Path, prefix) {
			out = append(out, r)
		}
	}
	return out
}

// lastGraph is the latest Graph request under prefix.
func (h *harness) lastGraph(prefix string) sim.Request {
	h.t.Helper()
	rs := h.graph(prefix)
	require.NotEmpty(h.t, rs, "no Graph request under %s", prefix)
	return rs[len(rs)-1]
}

func textOf(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if t, ok := c.(mcp.TextContent); ok {
			b.WriteString(t.Text)
		}
	}
	return b.String()
}
