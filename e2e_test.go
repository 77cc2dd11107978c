package main

// End-to-end tests: the whole server, as a user's MCP host reaches it, over
// stdio (the built binary with --sandbox), streamable HTTP (/mcp) and legacy
// SSE (/sse + /message), each driven by two independent clients: mcp-go's
// (pinned to 2025-11-25, as the TypeScript SDK and the Inspector negotiate)
// and the official Go SDK (which negotiates 2026-07-28 first). Every scenario
// is written once against a tiny client interface and runs on every pair.

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	mcpgotransport "github.com/mark3labs/mcp-go/client/transport"
	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outlook-mcp/outlook-mcp/extract"
	"github.com/outlook-mcp/outlook-mcp/nango"
	"github.com/outlook-mcp/outlook-mcp/ops"
	"github.com/outlook-mcp/outlook-mcp/sim"
	"github.com/outlook-mcp/outlook-mcp/tools"
	"github.com/outlook-mcp/outlook-mcp/transport"
)

// testNow is the simulator's clock: fixture times are relative to it.
var testNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// callTimeout bounds every single MCP exchange, so a hang fails fast.
const callTimeout = 15 * time.Second

var (
	binDir  string // holds the stdio binary, built on first use
	binOnce sync.Once
	binPath string
	binErr  error
)

func TestMain(m *testing.M) {
	extract.RunChildIfRequested()
	dir, err := os.MkdirTemp("", "outlook-mcp-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	// The servers these tests start keep their short ids here, never in
	// the user's cache directory.
	_ = os.Setenv("OUTLOOK_MCP_STATE_DIR", filepath.Join(dir, "state"))
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// serverBinary builds the server once per test run, only when a stdio test needs it.
func serverBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binPath = filepath.Join(binDir, "outlook-mcp")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	require.NoError(t, binErr)
	return binPath
}

var (
	fixtureOnce sync.Once
	fixtureData []byte
	fixtureErr  error
)

func fixture(t *testing.T) []byte {
	t.Helper()
	fixtureOnce.Do(func() { fixtureData, fixtureErr = os.ReadFile("testdata/mailbox.json") })
	require.NoError(t, fixtureErr)
	return fixtureData
}

// syncBuffer collects log output written from many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// ---- the server under test ----

// setup is how a scenario wants the world: the simulator's options and the
// server's Nango configuration. Over stdio only scopes can be set (through
// --sandbox-scopes).
type setup struct {
	scopes    []string           // granted scopes; nil = the simulator's defaults
	sim       func(*sim.Options) // more simulator options (in-process only)
	secretKey string             // the server's NANGO_SECRET_KEY; "" = the one the simulator accepts
	server    func(*options)     // the server's flags (in-process only); with auth "nango" it has no default connection
}

func (s setup) inProcessOnly() bool { return s.sim != nil || s.secretKey != "" || s.server != nil }

type httpServer struct {
	base     string // http://127.0.0.1:port
	sim      *sim.Sim
	logs     *syncBuffer
	audit    *syncBuffer        // the audit log
	shutdown func(t *testing.T) // ends ServeHTTP and checks it went gracefully; idempotent
}

// startHTTPServer serves the real server (main.go's buildServer) over
// transport.ServeHTTP on a free loopback port, backed by a simulator the
// test holds. Cleanup shuts it down and checks the shutdown was graceful and
// the secret key never reached the logs.
func startHTTPServer(t *testing.T, st setup, token string) *httpServer {
	t.Helper()
	return startHTTPServerWith(t, st, transport.HTTPConfig{Token: token})
}

// startHTTPServerWith is startHTTPServer with more of the HTTP settings.
func startHTTPServerWith(t *testing.T, st setup, cfg transport.HTTPConfig) *httpServer {
	t.Helper()
	so := sim.Options{Now: func() time.Time { return testNow }}
	if st.scopes != nil {
		so.Scopes = st.scopes
	}
	if st.sim != nil {
		st.sim(&so)
	}
	s, err := sim.New(fixture(t), so)
	require.NoError(t, err)

	logs := &syncBuffer{}
	logger := slog.New(transport.RedactSessionIDs(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	key := cmp.Or(st.secretKey, sim.DefaultSecretKey)
	audit := &syncBuffer{}
	o := options{observer: ops.New(audit, logger)}
	if st.server != nil {
		st.server(&o)
	}
	connection := "sandbox"
	if o.auth == "nango" {
		connection = ""
	}
	srv, _, err := buildServer(nango.Config{
		Host: "http://nango.test", SecretKey: key, IntegrationID: "outlook",
		HTTPClient: s.Client(), Logger: logger, Backoff: time.Millisecond,
	}, connection, o, logger)
	require.NoError(t, err)
	cfg.Ops = transport.Ops{Metrics: o.observer.Metrics(), Ready: o.observer.Ready()}

	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		cfg.Addr, cfg.Logger = "127.0.0.1:0", logger
		done <- transport.ServeHTTP(ctx, srv, cfg, func(addr string) { ready <- addr })
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("ServeHTTP returned before listening: %v", err)
	case <-time.After(callTimeout):
		cancel()
		t.Fatal("ServeHTTP did not start listening")
	}
	var once sync.Once
	shutdown := func(t *testing.T) {
		once.Do(func() {
			cancel()
			start := time.Now()
			select {
			case err := <-done:
				assert.NoError(t, err, "ServeHTTP after shutdown")
				// Shutdown waits at most 5 s for open streams before closing
				// them: finishing well before means none was left hanging.
				assert.Less(t, time.Since(start), 4*time.Second, "shutdown waited for a stream that was still open")
			case <-time.After(callTimeout):
				t.Error("ServeHTTP did not return after its context ended")
			}
		})
	}
	t.Cleanup(func() {
		shutdown(t)
		assert.NotContains(t, logs.String(), key, "the Nango secret key reached the logs")
	})
	return &httpServer{base: "http://" + addr, sim: s, logs: logs, audit: audit, shutdown: shutdown}
}

// ---- two clients behind one interface ----

// mcpClient is what a scenario needs from an MCP client. Errors are protocol
// errors; a tool error is a result with isError.
type mcpClient interface {
	listTools(ctx context.Context) ([]toolInfo, error)
	callTool(ctx context.Context, name string, args map[string]any) (*toolResult, error)
	// getPrompt lists the prompts, then gets one: its names and its text.
	getPrompt(ctx context.Context, name string, args map[string]string) (names []string, text string, err error)
	protocolVersion() string
	// close ends the session (and over stdio waits for the server to exit).
	// It is idempotent; cleanup calls it too.
	close() error
}

type toolInfo struct {
	name        string
	description string
	inputType   any             // inputSchema's "type"
	hints       map[string]bool // annotation hints present in the listing
}

type toolResult struct {
	text       string
	isError    bool
	structured map[string]any
}

var allHints = []string{"readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"}

// boundedStart gives a connection a context that outlives the handshake
// (SSE streams hang off it) yet fails the test if the handshake hangs.
func boundedStart(t *testing.T, what string, start func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	timer := time.AfterFunc(callTimeout, cancel)
	err := start(ctx)
	require.True(t, timer.Stop(), "%s timed out", what)
	require.NoError(t, err, what)
}

// mcp-go's client.

type mcpGoClient struct {
	c         *client.Client
	closeOnce sync.Once
	closeErr  error
}

func (m *mcpGoClient) close() error {
	m.closeOnce.Do(func() { m.closeErr = m.c.Close() })
	return m.closeErr
}

func newMCPGoClient(t *testing.T, c *client.Client, closeMustSucceed bool) mcpClient {
	t.Helper()
	m := &mcpGoClient{c: c}
	t.Cleanup(func() {
		err := m.close()
		if closeMustSucceed {
			assert.NoError(t, err, "closing the mcp-go client (the server process must exit cleanly)")
		}
	})
	boundedStart(t, "mcp-go connect", func(ctx context.Context) error {
		if err := c.Start(ctx); err != nil {
			return err
		}
		_, err := c.Initialize(ctx, mcpgo.InitializeRequest{Params: mcpgo.InitializeParams{
			ProtocolVersion: mcpgo.LATEST_LEGACY_PROTOCOL_VERSION,
			ClientInfo:      mcpgo.Implementation{Name: "e2e-mcp-go", Version: "test"},
		}})
		return err
	})
	return m
}

func (m *mcpGoClient) protocolVersion() string { return m.c.ProtocolVersion() }

func (m *mcpGoClient) listTools(ctx context.Context) ([]toolInfo, error) {
	res, err := m.c.ListTools(ctx, mcpgo.ListToolsRequest{})
	if err != nil {
		return nil, err
	}
	var out []toolInfo
	for _, tool := range res.Tools {
		info := toolInfo{name: tool.Name, description: tool.Description, inputType: tool.InputSchema.Type, hints: map[string]bool{}}
		a := tool.Annotations
		for name, v := range map[string]*bool{"readOnlyHint": a.ReadOnlyHint, "destructiveHint": a.DestructiveHint,
			"idempotentHint": a.IdempotentHint, "openWorldHint": a.OpenWorldHint} {
			if v != nil {
				info.hints[name] = *v
			}
		}
		out = append(out, info)
	}
	return out, nil
}

func (m *mcpGoClient) callTool(ctx context.Context, name string, args map[string]any) (*toolResult, error) {
	res, err := m.c.CallTool(ctx, mcpgo.CallToolRequest{Params: mcpgo.CallToolParams{Name: name, Arguments: args}})
	if err != nil {
		return nil, err
	}
	out := &toolResult{isError: res.IsError}
	for _, c := range res.Content {
		if tc, ok := c.(mcpgo.TextContent); ok {
			out.text += tc.Text
		}
	}
	out.structured, err = asObject(res.StructuredContent)
	return out, err
}

func (m *mcpGoClient) getPrompt(ctx context.Context, name string, args map[string]string) ([]string, string, error) {
	list, err := m.c.ListPrompts(ctx, mcpgo.ListPromptsRequest{})
	if err != nil {
		return nil, "", err
	}
	var names []string
	for _, p := range list.Prompts {
		names = append(names, p.Name)
	}
	res, err := m.c.GetPrompt(ctx, mcpgo.GetPromptRequest{Params: mcpgo.GetPromptParams{Name: name, Arguments: args}})
	if err != nil {
		return names, "", err
	}
	var text string
	for _, msg := range res.Messages {
		if tc, ok := msg.Content.(mcpgo.TextContent); ok {
			text += tc.Text
		}
	}
	return names, text, nil
}

// The official Go SDK's client.

type goSDKClient struct {
	cs        *sdk.ClientSession
	closeOnce sync.Once
	closeErr  error
}

func (g *goSDKClient) close() error {
	g.closeOnce.Do(func() { g.closeErr = g.cs.Close() })
	return g.closeErr
}

func newGoSDKClient(t *testing.T, tr sdk.Transport, closeMustSucceed bool) mcpClient {
	t.Helper()
	c := sdk.NewClient(&sdk.Implementation{Name: "e2e-go-sdk", Version: "test"}, nil)
	var cs *sdk.ClientSession
	boundedStart(t, "go-sdk connect", func(ctx context.Context) (err error) {
		cs, err = c.Connect(ctx, tr, nil)
		return err
	})
	g := &goSDKClient{cs: cs}
	t.Cleanup(func() {
		err := g.close()
		if closeMustSucceed {
			assert.NoError(t, err, "closing the go-sdk session (the server process must exit cleanly)")
		}
	})
	return g
}

func (g *goSDKClient) protocolVersion() string { return g.cs.InitializeResult().ProtocolVersion }

func (g *goSDKClient) listTools(ctx context.Context) ([]toolInfo, error) {
	var out []toolInfo
	for tool, err := range g.cs.Tools(ctx, nil) {
		if err != nil {
			return nil, err
		}
		schema, _ := tool.InputSchema.(map[string]any)
		info := toolInfo{name: tool.Name, description: tool.Description, inputType: schema["type"], hints: map[string]bool{}}
		if a := tool.Annotations; a != nil {
			// The SDK decodes readOnlyHint and idempotentHint into plain bools:
			// their absence is indistinguishable from false here (mcp-go's
			// client checks presence); their values are still checked.
			info.hints["readOnlyHint"] = a.ReadOnlyHint
			info.hints["idempotentHint"] = a.IdempotentHint
			if a.DestructiveHint != nil {
				info.hints["destructiveHint"] = *a.DestructiveHint
			}
			if a.OpenWorldHint != nil {
				info.hints["openWorldHint"] = *a.OpenWorldHint
			}
		}
		out = append(out, info)
	}
	return out, nil
}

func (g *goSDKClient) callTool(ctx context.Context, name string, args map[string]any) (*toolResult, error) {
	res, err := g.cs.CallTool(ctx, &sdk.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		return nil, err
	}
	out := &toolResult{isError: res.IsError}
	for _, c := range res.Content {
		if tc, ok := c.(*sdk.TextContent); ok {
			out.text += tc.Text
		}
	}
	out.structured, err = asObject(res.StructuredContent)
	return out, err
}

func (g *goSDKClient) getPrompt(ctx context.Context, name string, args map[string]string) ([]string, string, error) {
	list, err := g.cs.ListPrompts(ctx, nil)
	if err != nil {
		return nil, "", err
	}
	var names []string
	for _, p := range list.Prompts {
		names = append(names, p.Name)
	}
	res, err := g.cs.GetPrompt(ctx, &sdk.GetPromptParams{Name: name, Arguments: args})
	if err != nil {
		return names, "", err
	}
	var text string
	for _, m := range res.Messages {
		if tc, ok := m.Content.(*sdk.TextContent); ok {
			text += tc.Text
		}
	}
	return names, text, nil
}

// isInvalidParams tells whether either client got JSON-RPC -32602.
func isInvalidParams(err error) bool {
	var wire *jsonrpc.Error
	if errors.As(err, &wire) {
		return wire.Code == jsonrpc.CodeInvalidParams
	}
	return errors.Is(err, mcpgo.ErrInvalidParams)
}

// asObject turns structured content, however a client decoded it, into a map.
func asObject(v any) (map[string]any, error) {
	if v == nil {
		return nil, nil
	}
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("structured content is not an object: %s", data)
	}
	return m, nil
}

// withHeaders adds headers (the bearer token, Nango's connection-id...) to
// every request of the official SDK's client.
type withHeaders struct {
	header map[string]string
	next   http.RoundTripper
}

func (h withHeaders) CloseIdleConnections() {
	if c, ok := h.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

func (h withHeaders) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range h.header {
		r.Header.Set(k, v)
	}
	return h.next.RoundTrip(r)
}

// connectHTTP connects one client to a running HTTP server, over streamable
// HTTP ("http") or legacy SSE ("sse").
func connectHTTP(t *testing.T, kind, clientName, base, token string) mcpClient {
	t.Helper()
	headers := map[string]string{}
	if token != "" {
		headers["Authorization"] = "Bearer " + token
	}
	return connectHTTPWith(t, kind, clientName, base, headers)
}

// connectHTTPWith is connectHTTP with the headers every request carries.
func connectHTTPWith(t *testing.T, kind, clientName, base string, headers map[string]string) mcpClient {
	t.Helper()
	// Each client gets its own connection pool, emptied once it has closed:
	// a pre-dialed connection that never carried a request would otherwise
	// hold the server's graceful shutdown for its full 5 s.
	httpClient := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	t.Cleanup(httpClient.CloseIdleConnections)
	if len(headers) > 0 {
		httpClient.Transport = withHeaders{header: headers, next: httpClient.Transport}
	}
	switch clientName + "/" + kind {
	case "mcp-go/http":
		c, err := client.NewStreamableHttpClient(base+"/mcp", mcpgotransport.WithHTTPHeaders(headers), mcpgotransport.WithHTTPBasicClient(httpClient))
		require.NoError(t, err)
		return newMCPGoClient(t, c, false)
	case "mcp-go/sse":
		c, err := client.NewSSEMCPClient(base+"/sse", client.WithHeaders(headers), client.WithHTTPClient(httpClient),
			mcpgotransport.WithSSELogger(slog.New(slog.DiscardHandler))) // a stream ended by the server is no news here
		require.NoError(t, err)
		return newMCPGoClient(t, c, false)
	case "go-sdk/http":
		return newGoSDKClient(t, &sdk.StreamableClientTransport{Endpoint: base + "/mcp", HTTPClient: httpClient, MaxRetries: -1}, false)
	case "go-sdk/sse":
		return newGoSDKClient(t, &sdk.SSEClientTransport{Endpoint: base + "/sse", HTTPClient: httpClient}, false)
	}
	t.Fatalf("no client %s over %s", clientName, kind)
	return nil
}

// connectStdio starts the built binary with --sandbox and connects to it.
func connectStdio(t *testing.T, clientName string, st setup) (mcpClient, *syncBuffer) {
	t.Helper()
	require.False(t, st.inProcessOnly(), "stdio can only change scopes")
	args := []string{"--sandbox"}
	if st.scopes != nil {
		args = append(args, "--sandbox-scopes", strings.Join(st.scopes, ","))
	}
	env := []string{"OUTLOOK_MCP_LOG_LEVEL=debug"}
	stderr := &syncBuffer{}
	bin := serverBinary(t)
	switch clientName {
	case "mcp-go":
		c, err := client.NewStdioMCPClientWithOptions(bin, env, args, mcpgotransport.WithCommandStderrWriter(stderr))
		require.NoError(t, err)
		return newMCPGoClient(t, c, true), stderr
	case "go-sdk":
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), env...)
		cmd.Stderr = stderr
		return newGoSDKClient(t, &sdk.CommandTransport{Command: cmd}, true), stderr
	}
	t.Fatalf("no client %s", clientName)
	return nil, nil
}

// ---- what scenarios see ----

// env is one connected client and, for in-process transports, the simulator
// behind the server.
type env struct {
	transport string
	c         mcpClient
	sim       *sim.Sim // nil over stdio: the sandbox lives in the child process
	logs      *syncBuffer
}

func startEnv(t *testing.T, kind, clientName string, st setup) *env {
	t.Helper()
	if kind == "stdio" {
		c, logs := connectStdio(t, clientName, st)
		return &env{transport: kind, c: c, logs: logs}
	}
	srv := startHTTPServer(t, st, "")
	return &env{transport: kind, c: connectHTTP(t, kind, clientName, srv.base, ""), sim: srv.sim, logs: srv.logs}
}

// now is the simulator's clock: the sandbox binary's is real time.
func (e *env) now() time.Time {
	if e.sim == nil {
		return time.Now()
	}
	return testNow
}

func callCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), callTimeout)
	t.Cleanup(cancel)
	return ctx
}

func (e *env) list(t *testing.T) []toolInfo {
	t.Helper()
	tools, err := e.c.listTools(callCtx(t))
	require.NoError(t, err, "tools/list")
	return tools
}

// call invokes a tool; a protocol error fails the test (tool errors are results).
func (e *env) call(t *testing.T, name string, args map[string]any) *toolResult {
	t.Helper()
	res, err := e.c.callTool(callCtx(t), name, args)
	require.NoError(t, err, "tools/call %s must not be a protocol error", name)
	return res
}

func (e *env) ok(t *testing.T, name string, args map[string]any) *toolResult {
	t.Helper()
	res := e.call(t, name, args)
	require.False(t, res.isError, "%s failed: %s", name, res.text)
	require.NotEmpty(t, res.text, "%s: the model reads the text", name)
	return res
}

func (e *env) fails(t *testing.T, name string, args map[string]any) string {
	t.Helper()
	res := e.call(t, name, args)
	require.True(t, res.isError, "%s should be a tool error, got: %s", name, res.text)
	require.NotEmpty(t, res.text, "%s: a tool error must say what happened", name)
	return res.text
}

// sentSubjects lists Sent Items as the user would see them.
func (e *env) sentSubjects(t *testing.T) []string {
	t.Helper()
	res := e.ok(t, "search_mail", map[string]any{"folder": "sentitems", "limit": 50})
	var subjects []string
	for _, m := range messagesOf(t, res) {
		subjects = append(subjects, fmt.Sprint(m["subject"]))
	}
	return subjects
}

func messagesOf(t *testing.T, res *toolResult) []map[string]any {
	t.Helper()
	require.NotNil(t, res.structured, "structured content")
	raw, ok := res.structured["messages"].([]any)
	require.True(t, ok, "structured content has messages[]: %v", res.structured)
	out := make([]map[string]any, 0, len(raw))
	for _, m := range raw {
		msg, ok := m.(map[string]any)
		require.True(t, ok, "a message is an object: %v", m)
		out = append(out, msg)
	}
	return out
}

// graphRequests are the requests Graph received (through the proxy) for
// exactly this method and path.
func graphRequests(s *sim.Sim, method, path string) []sim.Request {
	var out []sim.Request
	for _, r := range s.Requests() {
		if r.Proxy && (method == "" || r.Method == method) && r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// ---- scenarios ----

type scenario struct {
	name  string
	setup setup
	// inProcess: the scenario injects faults or inspects the simulator, so
	// it runs only where the test holds the server (HTTP and SSE).
	inProcess bool
	run       func(t *testing.T, e *env)
}

// wantTools are the inventory's tools, sorted: what every transport lists.
var wantTools = func() []string {
	var names []string
	for _, t := range tools.All() {
		names = append(names, t.Name)
	}
	slices.Sort(names)
	return names
}()

// unknownKey is a well-formed Nango secret key that the simulator does not know.
const unknownKey = "0b0e6f8a-1c2d-4e3f-9a4b-5c6d7e8f9a0b"

// sendArgs is a send a user would ask for; subject tells the sends apart.
func sendArgs(subject string) map[string]any {
	return map[string]any{"to": []string{"Ann Lee <ann.lee@example.com>"}, "subject": subject, "body": "See you at noon."}
}

// declaredHints are each tool's annotations as its declaration states them.
var declaredHints = func() map[string]tools.Hints {
	m := map[string]tools.Hints{}
	for _, t := range tools.All() {
		m[t.Name] = t.Hints
	}
	return m
}()

var scenarios = []scenario{
	{name: "ToolsListed", run: func(t *testing.T, e *env) {
		tools := e.list(t)
		var names []string
		for _, tool := range tools {
			names = append(names, tool.name)
			assert.Equal(t, "object", tool.inputType, "%s inputSchema type", tool.name)
			assert.NotEmpty(t, tool.description, tool.name)
			for _, h := range allHints {
				assert.Contains(t, tool.hints, h, "%s lacks %s", tool.name, h)
			}
			declared := declaredHints[tool.name]
			assert.Equal(t, map[string]bool{"readOnlyHint": declared.ReadOnly, "destructiveHint": declared.Destructive,
				"idempotentHint": declared.Idempotent, "openWorldHint": declared.OpenWorld}, tool.hints, "%s hints as declared", tool.name)
		}
		slices.Sort(names)
		assert.Equal(t, wantTools, names)
	}},
	{name: "SearchThenRead", run: func(t *testing.T, e *env) {
		res := e.ok(t, "search_mail", map[string]any{"limit": 5})
		msgs := messagesOf(t, res)
		require.Len(t, msgs, 5)
		assert.NotEmpty(t, res.structured["next_cursor"], "the mailbox holds more than 5 messages")
		id, _ := msgs[0]["id"].(string)
		subject, _ := msgs[0]["subject"].(string)
		require.NotEmpty(t, id)
		assert.Contains(t, res.text, id, "the model sees the ids it must pass back")

		msg := e.ok(t, "get_message", map[string]any{"id": id})
		require.NotNil(t, msg.structured, "structured content")
		assert.Equal(t, id, msg.structured["id"])
		assert.Equal(t, subject, msg.structured["subject"])
		assert.Contains(t, msg.text, "Subject: "+subject)
	}},
	{name: "EveryToolAnswers", run: func(t *testing.T, e *env) {
		// Every tool once, with ids taken from earlier answers, as a model
		// would chain them: each must succeed through this transport.
		called := map[string]bool{}
		ok := func(name string, args map[string]any) map[string]any {
			t.Helper()
			called[name] = true
			return e.ok(t, name, args).structured
		}
		first := func(m map[string]any, list, field string) string {
			t.Helper()
			items, _ := m[list].([]any)
			require.NotEmpty(t, items, "%s in %v", list, m)
			v, _ := items[0].(map[string]any)[field].(string)
			require.NotEmpty(t, v, "%s[0].%s", list, field)
			return v
		}
		msg := first(ok("search_mail", map[string]any{"query": "Q4 plan", "limit": 1}), "messages", "id")
		ok("get_message", map[string]any{"id": msg})
		ok("get_thread", map[string]any{"message_id": msg})
		att := first(ok("list_attachments", map[string]any{"message_id": msg}), "attachments", "id")
		ok("read_attachment", map[string]any{"message_id": msg, "attachment_id": att, "max_chars": 200})
		ok("list_mail_folders", nil)
		ok("update_message", map[string]any{"message_id": msg, "is_read": true, "flag": "flagged"})
		draft := ok("reply_to_message", map[string]any{"message_id": msg, "body": "Will do.", "draft_only": true})["draft_id"].(string)
		ok("forward_message", map[string]any{"message_id": msg, "to": []string{"ann.lee@example.com"}, "draft_only": true})
		ok("delete_message", map[string]any{"message_id": draft})
		fresh := ok("create_draft", map[string]any{"to": []string{"ann.lee@example.com"}, "subject": "E2E draft " + e.transport, "body": "Hello"})["draft_id"].(string)
		ok("send_draft", map[string]any{"draft_id": fresh})
		ok("send_mail", sendArgs("E2E every tool "+e.transport))
		ok("move_message", map[string]any{"message_id": msg, "destination": "archive"})

		day := e.now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)
		week := e.now().UTC().AddDate(0, 0, 7).Format(time.DateOnly)
		events := ok("list_events", map[string]any{"start": e.now().UTC().Format(time.DateOnly), "end": week, "limit": 100})
		var invited string
		for _, item := range events["events"].([]any) {
			ev := item.(map[string]any)
			if org, _ := ev["organizer"].(map[string]any); org["address"] != "priya.raman@contoso.com" && ev["is_cancelled"] != true {
				invited = ev["id"].(string)
				break
			}
		}
		require.NotEmpty(t, invited, "a meeting someone else organised")
		ok("list_calendars", nil)
		ok("get_event", map[string]any{"event_id": invited})
		ok("respond_to_event", map[string]any{"event_id": invited, "response": "tentative", "send_response": false})
		created := ok("create_event", map[string]any{"subject": "E2E " + e.transport, "start": day + "T15:00:00Z", "end": day + "T15:30:00Z",
			"attendees": []map[string]any{{"address": "daniel.obrien@contoso.com", "type": "required"}}, "is_online_meeting": true})
		eventID, _ := created["id"].(string)
		require.NotEmpty(t, eventID, "created event id: %v", created)
		ok("update_event", map[string]any{"event_id": eventID, "location": "Room 1"})
		ok("cancel_event", map[string]any{"event_id": eventID, "comment": "Not needed after all."})
		ok("get_free_busy", map[string]any{"emails": []string{"daniel.obrien@contoso.com"}, "start": day, "end": week})
		ok("find_meeting_times", map[string]any{"attendees": []string{"daniel.obrien@contoso.com"}, "duration_minutes": 30})

		contact := first(ok("find_contacts", map[string]any{"query": "Amma"}), "contacts", "id")
		ok("get_contact", map[string]any{"contact_id": contact})
		ok("create_contact", map[string]any{"name": "Ann Lee", "emails": []string{"ann.lee@example.com"}})
		ok("get_mailbox_settings", nil)
		ok("set_automatic_replies", map[string]any{"status": "disabled"})
		ok("get_profile", nil)

		for _, name := range wantTools {
			assert.True(t, called[name], "%s was not exercised", name)
		}
	}},
	{name: "PromptsServed", run: func(t *testing.T, e *env) {
		names, text, err := e.c.getPrompt(callCtx(t), "follow_up", map[string]string{"days": "3"})
		require.NoError(t, err)
		slices.Sort(names)
		assert.Equal(t, []string{"daily_briefing", "draft_reply", "follow_up", "schedule_meeting", "triage_inbox"}, names)
		assert.Contains(t, text, "search_mail")
		assert.Contains(t, text, "get_thread")
		_, _, err = e.c.getPrompt(callCtx(t), "follow_up", map[string]string{"days": "-2"})
		assert.ErrorContains(t, err, `"days"`, "a bad argument is named")
		assert.True(t, isInvalidParams(err), "a bad argument is -32602, not an internal error: %v", err)
		_, _, err = e.c.getPrompt(callCtx(t), "draft_reply", nil)
		assert.ErrorContains(t, err, `Missing argument "message_id"`)
		assert.True(t, isInvalidParams(err), "a missing argument is -32602: %v", err)
	}},
	{name: "CalendarContactsProfile", run: func(t *testing.T, e *env) {
		today := e.now().UTC()
		events := e.ok(t, "list_events", map[string]any{"start": today.Format(time.DateOnly), "end": today.AddDate(0, 0, 14).Format(time.DateOnly), "time_zone": "Europe/London"})
		list, ok := events.structured["events"].([]any)
		require.True(t, ok, "events[]: %v", events.structured)
		assert.NotEmpty(t, list, "the sample calendar has meetings in the next two weeks")
		assert.Contains(t, events.text, "events (Europe/London):")

		people := e.ok(t, "find_contacts", map[string]any{"query": "ann"})
		assert.Contains(t, people.text, "Ann Fischer")

		profile := e.ok(t, "get_profile", nil)
		assert.Contains(t, profile.text, "priya.raman@contoso.com")
		assert.Equal(t, "sandbox", profile.structured["connection_id"])
	}},
	{name: "SendMail", run: func(t *testing.T, e *env) {
		subject := "E2E lunch " + e.transport
		res := e.ok(t, "send_mail", sendArgs(subject))
		assert.Contains(t, res.text, "Sent")
		assert.Contains(t, res.text, "ann.lee@example.com")
		assert.Equal(t, "accepted", res.structured["status"])
		if e.sim != nil {
			sent := e.sim.Sent()
			require.Len(t, sent, 1)
			assert.Contains(t, string(sent[0]), subject)
		}
		assert.Contains(t, e.sentSubjects(t), subject, "the sent message is in Sent Items")
	}},
	{name: "MissingScope", setup: setup{scopes: []string{"User.Read", "Mail.Read", "offline_access"}}, run: func(t *testing.T, e *env) {
		subject := "E2E must not leave " + e.transport
		msg := e.fails(t, "send_mail", sendArgs(subject))
		assert.Contains(t, msg, "Mail.Send")
		assert.Contains(t, msg, "Granted now: Mail.Read, offline_access, User.Read.")
		assert.Contains(t, msg, `"sandbox"`, "names the connection")
		assert.Contains(t, msg, "https://connect.nango.dev/", "gives a re-authorization link")
		if e.sim != nil {
			assert.Empty(t, e.sim.Sent())
			assert.Empty(t, graphRequests(e.sim, "POST", "/v1.0/me/sendMail"), "refused before Graph")
			reconnects := e.sim.Reconnects()
			require.Len(t, reconnects, 1, "the link is a Nango reconnect session")
			assert.Contains(t, reconnects[0].Scopes, "Mail.Send", "the link asks for the missing scope")
			assert.Contains(t, reconnects[0].Scopes, "Mail.Read", "and keeps what was granted")
		}
		assert.NotContains(t, e.sentSubjects(t), subject)
	}},
	{name: "UnknownConnection", inProcess: true, setup: setup{sim: func(o *sim.Options) { o.ConnectionID = "other" }}, run: func(t *testing.T, e *env) {
		msg := e.fails(t, "search_mail", nil)
		assert.Contains(t, msg, "NANGO_CONNECTION_ID")
		assert.Contains(t, msg, `"sandbox"`)
	}},
	{name: "BadSecretKey", inProcess: true, setup: setup{secretKey: unknownKey}, run: func(t *testing.T, e *env) {
		msg := e.fails(t, "search_mail", nil)
		assert.Contains(t, msg, "NANGO_SECRET_KEY")
		assert.NotContains(t, msg, unknownKey)
		assert.NotContains(t, e.logs.String(), unknownKey)
		assert.Contains(t, e.logs.String(), "tool call", "the call was logged")
	}},
	{name: "ThrottledThenServed", inProcess: true, run: func(t *testing.T, e *env) {
		e.sim.Inject(sim.Fault{Path: "/v1.0/me/messages", Status: 429, RetryAfter: "0", Times: 1})
		res := e.ok(t, "search_mail", nil)
		assert.NotEmpty(t, messagesOf(t, res))
		assert.Len(t, graphRequests(e.sim, "GET", "/v1.0/me/messages"), 2, "one throttled request, one retry")
	}},
	{name: "NoDoubleSend", inProcess: true, run: func(t *testing.T, e *env) {
		e.sim.Inject(sim.Fault{Method: "POST", Path: "/v1.0/me/sendMail", Status: 503, AfterEffect: true})
		msg := e.fails(t, "send_mail", sendArgs("E2E once"))
		assert.Contains(t, msg, "NOT retried")
		assert.Len(t, graphRequests(e.sim, "POST", "/v1.0/me/sendMail"), 1, "a send that may have happened is never repeated")
		assert.Len(t, e.sim.Sent(), 1)
	}},
	{name: "HostileArgumentsEscaped", inProcess: true, run: func(t *testing.T, e *env) {
		// A quote in the query stays inside the KQL string.
		e.ok(t, "search_mail", map[string]any{"query": `x" OR subject:"y`})
		reqs := graphRequests(e.sim, "GET", "/v1.0/me/messages")
		require.NotEmpty(t, reqs)
		assert.Equal(t, `"(x\" OR subject:\"y)"`, reqs[len(reqs)-1].Query.Get("$search"))

		// A quote in an address is doubled inside the OData literal.
		e.ok(t, "search_mail", map[string]any{"from": "o'brien@contoso.com"})
		reqs = graphRequests(e.sim, "GET", "/v1.0/me/messages")
		assert.Contains(t, reqs[len(reqs)-1].Query.Get("$filter"), "from/emailAddress/address eq 'o''brien@contoso.com'")

		// An id that a proxy would resolve to another path is refused
		// before anything is sent; a real id with a slash stays one segment.
		for _, id := range []string{"inbox/../../users", "..", "%2e%2e"} {
			assert.Contains(t, e.fails(t, "search_mail", map[string]any{"folder": id}), `Invalid argument "folder"`)
			assert.Contains(t, e.fails(t, "get_event", map[string]any{"event_id": id}), `Invalid argument "event_id"`)
		}
		msg := e.fails(t, "search_mail", map[string]any{"folder": "AAMk/Zm9sZGVy="})
		assert.Contains(t, msg, "Not found", "a folder by that odd id does not exist")
		var folderReq bool
		for _, r := range e.sim.Requests() {
			if !r.Proxy {
				continue
			}
			assert.NotContains(t, r.RawPath, "/users", "a request escaped its path segment: %s", r.RawPath)
			assert.NotContains(t, r.RawPath, "..", "a request escaped its path segment: %s", r.RawPath)
			folderReq = folderReq || strings.Contains(r.RawPath, "AAMk%2FZm9sZGVy=")
		}
		assert.True(t, folderReq, "the folder id reached Graph as one escaped segment")
	}},
	{name: "ConcurrencyCapped", inProcess: true, setup: setup{sim: func(o *sim.Options) { o.Latency = 30 * time.Millisecond }}, run: func(t *testing.T, e *env) {
		const calls = 10
		errs := make(chan error, calls)
		var wg sync.WaitGroup
		for range calls {
			wg.Go(func() {
				res, err := e.c.callTool(callCtx(t), "search_mail", nil)
				switch {
				case err != nil:
					errs <- err
				case res.isError:
					errs <- fmt.Errorf("tool error: %s", res.text)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			assert.NoError(t, err)
		}
		assert.LessOrEqual(t, e.sim.MaxInFlight(), 4, "at most 4 Graph calls at once per mailbox")
		assert.Greater(t, e.sim.MaxInFlight(), 1, "calls through the transport ran in parallel")
	}},
}

// TestE2E runs every scenario on every transport with both clients.
func TestE2E(t *testing.T) {
	for _, kind := range []string{"stdio", "http", "sse"} {
		for _, clientName := range []string{"mcp-go", "go-sdk"} {
			t.Run(kind+"/"+clientName, func(t *testing.T) {
				t.Parallel()
				for _, sc := range scenarios {
					if kind == "stdio" && (sc.inProcess || sc.setup.inProcessOnly()) {
						continue // the sandbox binary offers no fault injection
					}
					t.Run(sc.name, func(t *testing.T) {
						e := startEnv(t, kind, clientName, sc.setup)
						sc.run(t, e)
					})
				}
			})
		}
	}
}

// TestE2EProtocolVersions: each client negotiates the protocol it prefers on
// every transport — mcp-go the last handshake-era version, the official SDK
// the stateless 2026-07-28 where the transport allows it.
func TestE2EProtocolVersions(t *testing.T) {
	for _, kind := range []string{"stdio", "http", "sse"} {
		for _, clientName := range []string{"mcp-go", "go-sdk"} {
			t.Run(kind+"/"+clientName, func(t *testing.T) {
				t.Parallel()
				e := startEnv(t, kind, clientName, setup{})
				got := e.c.protocolVersion()
				t.Logf("negotiated %s", got)
				want := mcpgo.LATEST_LEGACY_PROTOCOL_VERSION
				if clientName == "go-sdk" {
					want = mcpgo.LATEST_PROTOCOL_VERSION
				}
				assert.Equal(t, want, got)
				// And the session works at that version.
				assert.Len(t, e.list(t), len(wantTools))
			})
		}
	}
}

// TestE2EStdioLogsGoToStderr: over stdio the protocol owns stdout, so the
// server's logs come out on stderr. (The official SDK's CommandTransport
// waits for the process, and so for all of its stderr, when it closes.)
func TestE2EStdioLogsGoToStderr(t *testing.T) {
	e := startEnv(t, "stdio", "go-sdk", setup{})
	e.ok(t, "get_profile", nil)
	require.NoError(t, e.c.close(), "the server exits cleanly when stdin closes")
	logs := e.logs.String()
	assert.Contains(t, logs, "sandbox mode")
	assert.Contains(t, logs, "msg=\"tool call\" tool=get_profile")
}

// ---- HTTP only ----

const toolsList = `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`

// rawRequest makes one plain HTTP request, as a browser or a script would.
func rawRequest(t *testing.T, method, url, host, auth, body string) (int, http.Header, string) {
	t.Helper()
	return rawRequestCtx(t, callCtx(t), method, url, host, auth, body)
}

// rawRequestCtx is rawRequest within ctx: for the few requests whose size,
// not a hang, makes them slow (megabytes of JSON under the race detector).
func rawRequestCtx(t *testing.T, ctx context.Context, method, url, host, auth, body string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	require.NoError(t, err)
	if host != "" {
		req.Host = host
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(data)
}

func TestE2EHTTPBearerToken(t *testing.T) {
	const token = "s3cret"
	srv := startHTTPServer(t, setup{}, token)

	for _, tc := range []struct{ method, path, auth string }{
		{"POST", "/mcp", ""},
		{"POST", "/mcp", "Bearer wrong"},
		{"POST", "/mcp", token}, // the scheme is required
		{"GET", "/mcp", ""},
		{"GET", "/sse", ""},
		{"GET", "/sse", "Bearer " + token + "x"},
		{"POST", "/message?sessionId=x", ""},
	} {
		status, header, _ := rawRequest(t, tc.method, srv.base+tc.path, "", tc.auth, toolsList)
		assert.Equal(t, http.StatusUnauthorized, status, "%s %s with %q", tc.method, tc.path, tc.auth)
		assert.Contains(t, header.Get("WWW-Authenticate"), "Bearer", "%s %s", tc.method, tc.path)
	}
	status, _, body := rawRequest(t, "GET", srv.base+"/healthz", "", "", "")
	assert.Equal(t, http.StatusOK, status, "health checks need no token")
	assert.Equal(t, "ok\n", body)

	for _, kind := range []string{"http", "sse"} {
		for _, clientName := range []string{"mcp-go", "go-sdk"} {
			t.Run(kind+"/"+clientName, func(t *testing.T) {
				e := &env{transport: kind, c: connectHTTP(t, kind, clientName, srv.base, token), sim: srv.sim}
				assert.Len(t, e.list(t), len(wantTools))
				res := e.ok(t, "get_profile", nil)
				assert.Equal(t, "sandbox", res.structured["connection_id"])
			})
		}
	}
	assert.NotContains(t, srv.logs.String(), token, "the bearer token reached the logs")
}

// TestE2EHTTPRejectsForeignHost: a web page that rebinds its DNS name to
// 127.0.0.1 cannot drive the server; health checks stay open.
func TestE2EHTTPRejectsForeignHost(t *testing.T) {
	srv := startHTTPServer(t, setup{}, "")
	for _, tc := range []struct{ method, path string }{{"POST", "/mcp"}, {"GET", "/sse"}, {"POST", "/message?sessionId=x"}} {
		status, _, body := rawRequest(t, tc.method, srv.base+tc.path, "attacker.example", "", toolsList)
		assert.Equal(t, http.StatusForbidden, status, "%s %s: %s", tc.method, tc.path, body)
	}
	status, _, _ := rawRequest(t, "GET", srv.base+"/healthz", "attacker.example", "", "")
	assert.Equal(t, http.StatusOK, status)
	assert.Empty(t, srv.sim.Requests(), "nothing reached Nango")
}

func TestE2EHTTPRefusesOpenAddrWithoutToken(t *testing.T) {
	err := transport.CheckAddr("0.0.0.0:8080", "")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "OUTLOOK_MCP_TOKEN")
	for _, ok := range []struct{ addr, token string }{
		{"0.0.0.0:8080", strings.Repeat("k", 32)}, {"127.0.0.1:8080", ""}, {"localhost:8080", ""}, {"[::1]:8080", ""},
	} {
		assert.NoError(t, transport.CheckAddr(ok.addr, ok.token), "%s token=%q", ok.addr, ok.token)
	}
	assert.Error(t, transport.CheckAddr("8080", ""), "not host:port")

	s, err := sim.New(fixture(t), sim.Options{Now: func() time.Time { return testNow }})
	require.NoError(t, err)
	srv, _, err := buildServer(nango.Config{Host: "http://nango.test", SecretKey: sim.DefaultSecretKey, IntegrationID: "outlook", HTTPClient: s.Client()},
		"sandbox", options{}, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	// Had it listened, it would serve until the context ends and return nil.
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	listened := false
	err = transport.ServeHTTP(ctx, srv, transport.HTTPConfig{Addr: "0.0.0.0:0", Logger: slog.New(slog.DiscardHandler)},
		func(string) { listened = true })
	require.Error(t, err)
	assert.Contains(t, err.Error(), "OUTLOOK_MCP_TOKEN")
	assert.False(t, listened, "refused before listening")
	assert.NoError(t, ctx.Err(), "returned at once")
}

// TestE2EHTTPShutdownWithClientsConnected: stopping the server (SIGTERM)
// while clients are still connected is prompt, and ServeHTTP returns nil.
func TestE2EHTTPShutdownWithClientsConnected(t *testing.T) {
	for _, kind := range []string{"http", "sse"} {
		for _, clientName := range []string{"mcp-go", "go-sdk"} {
			t.Run(kind+"/"+clientName, func(t *testing.T) {
				t.Parallel()
				srv := startHTTPServer(t, setup{}, "")
				e := &env{transport: kind, c: connectHTTP(t, kind, clientName, srv.base, ""), sim: srv.sim}
				assert.Len(t, e.list(t), len(wantTools))
				srv.shutdown(t) // the client is still connected
			})
		}
	}
}
