package main

// Tests of the command itself, through run(): configuration errors, flags,
// stdio hygiene and the HTTP listener's lifecycle. Plus a live test against
// the real Nango and Outlook, skipped unless credentials are in the environment.

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	mcpgotransport "github.com/mark3labs/mcp-go/client/transport"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outlook-mcp/outlook-mcp/tools"
)

// getenv is a fake environment.
func getenv(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// runCmd runs the command to completion with the given arguments, environment and stdin.
func runCmd(t *testing.T, args []string, vars map[string]string, stdin string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), callTimeout)
	defer cancel()
	var out, errOut bytes.Buffer
	code = run(ctx, args, getenv(vars), strings.NewReader(stdin), &out, &errOut)
	require.NoError(t, ctx.Err(), "run did not return by itself")
	return code, out.String(), errOut.String()
}

func TestRunRequiresSecretKey(t *testing.T) {
	code, stdout, stderr := runCmd(t, nil, map[string]string{"NANGO_CONNECTION_ID": "u1"}, "")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "NANGO_SECRET_KEY")
	assert.Contains(t, stderr, "--sandbox", "points to a way to try it without an account")
	assert.Empty(t, stdout, "stdout belongs to the protocol")
}

func TestRunRequiresConnectionID(t *testing.T) {
	code, stdout, stderr := runCmd(t, nil, map[string]string{"NANGO_SECRET_KEY": unknownKey}, "")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "NANGO_CONNECTION_ID")
	assert.Empty(t, stdout)
}

func TestRunMalformedSecretKeyIsNotEchoed(t *testing.T) {
	const key = "sk-live-DoNotPrintMe-1234567890"
	code, stdout, stderr := runCmd(t, nil, map[string]string{"NANGO_SECRET_KEY": key, "NANGO_CONNECTION_ID": "u1"}, "")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "NANGO_SECRET_KEY")
	assert.Contains(t, stderr, "UUID")
	assert.NotContains(t, stderr, key)
	assert.NotContains(t, stderr, "DoNotPrintMe")
	assert.Empty(t, stdout)
}

func TestRunBadNangoHostIsNamed(t *testing.T) {
	code, _, stderr := runCmd(t, nil, map[string]string{"NANGO_SECRET_KEY": unknownKey, "NANGO_CONNECTION_ID": "u1", "NANGO_HOST": "ftp://nango"}, "")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "NANGO_HOST")
	assert.NotContains(t, stderr, unknownKey)
}

func TestRunBadLogLevel(t *testing.T) {
	code, _, stderr := runCmd(t, []string{"--sandbox"}, map[string]string{"OUTLOOK_MCP_LOG_LEVEL": "chatty"}, "")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "OUTLOOK_MCP_LOG_LEVEL")
}

func TestRunBadShutdownGrace(t *testing.T) {
	code, _, stderr := runCmd(t, []string{"--sandbox"}, map[string]string{"OUTLOOK_MCP_SHUTDOWN_GRACE": "10"}, "")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, `OUTLOOK_MCP_SHUTDOWN_GRACE must be a duration such as 10s, not "10"`)
	code, _, stderr = runCmd(t, []string{"--sandbox", "--shutdown-grace", "soon"}, nil, "")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "-shutdown-grace")
}

func TestRunVersion(t *testing.T) {
	code, stdout, _ := runCmd(t, []string{"--version"}, nil, "")
	assert.Equal(t, 0, code)
	assert.Regexp(t, `^outlook-mcp \S+\n$`, stdout)
}

func TestVersionComesFromTheBuild(t *testing.T) {
	vcs := func(modified string, main string) *debug.BuildInfo {
		return &debug.BuildInfo{Main: debug.Module{Path: "github.com/outlook-mcp/outlook-mcp", Version: main},
			Settings: []debug.BuildSetting{{Key: "vcs", Value: "git"},
				{Key: "vcs.revision", Value: "d4520bd7a1b2c3d4e5f60718293a4b5c6d7e8f90"}, {Key: "vcs.modified", Value: modified}}}
	}
	for _, c := range []struct {
		stamped string
		info    *debug.BuildInfo
		want    string
	}{
		{"v1.4.0", vcs("false", "(devel)"), "v1.4.0"}, // -ldflags -X main.version wins
		{"", vcs("false", "v0.0.0-20261202124757-d4520bd7a1b2"), "d4520bd7a1b2"},
		{"", vcs("true", "(devel)"), "d4520bd7a1b2-dirty"},
		// go install …@v1.4.0: a module version, no VCS.
		{"", &debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}}, "v1.4.0"},
		// GOFLAGS=-buildvcs=false in a checkout: nothing to tell.
		{"", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{{Key: "-buildvcs", Value: "false"}}}, "dev"},
		{"", &debug.BuildInfo{}, "dev"},
		{"", nil, "dev"},
	} {
		assert.Equal(t, c.want, versionOf(c.stamped, c.info), "%+v", c.info)
	}
}

func TestRunHelp(t *testing.T) {
	code, stdout, stderr := runCmd(t, []string{"--help"}, nil, "")
	assert.Equal(t, 0, code)
	help := stdout + stderr
	for _, want := range []string{"Usage:", "--sandbox", "NANGO_SECRET_KEY", "NANGO_CONNECTION_ID", "OUTLOOK_MCP_TOKEN", "-transport", "-addr"} {
		assert.Contains(t, help, want)
	}
}

func TestRunUnknownFlag(t *testing.T) {
	code, stdout, stderr := runCmd(t, []string{"--sandbx"}, nil, "")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "sandbx")
	assert.Empty(t, stdout)
}

func TestRunUnknownTransport(t *testing.T) {
	code, stdout, stderr := runCmd(t, []string{"--sandbox", "--transport", "websocket"}, nil, "")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, `--transport must be stdio or http, not "websocket"`)
	assert.Empty(t, stdout)
}

func TestRunHTTPRefusesOpenAddrWithoutToken(t *testing.T) {
	code, _, stderr := runCmd(t, []string{"--sandbox", "--transport", "http", "--addr", "0.0.0.0:0"}, nil, "")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "OUTLOOK_MCP_TOKEN")
}

// TestRunStdioWritesOnlyJSONRPC pipes a whole session into stdin: every line
// on stdout is a JSON-RPC message, and logs go to stderr.
func TestRunStdioWritesOnlyJSONRPC(t *testing.T) {
	in := strings.Join([]string{
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"pipe","version":"0"}}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`,
	}, "\n") + "\n"
	code, stdout, stderr := runCmd(t, []string{"--sandbox"}, map[string]string{"OUTLOOK_MCP_LOG_LEVEL": "debug"}, in)
	require.Equal(t, 0, code, "EOF on stdin ends the server normally; stderr:\n%s", stderr)

	results := map[float64]map[string]any{}
	for line := range strings.Lines(stdout) {
		var msg struct {
			JSONRPC string         `json:"jsonrpc"`
			ID      float64        `json:"id"`
			Result  map[string]any `json:"result"`
			Error   any            `json:"error"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &msg), "stdout line is not JSON-RPC: %q", line)
		assert.Equal(t, "2.0", msg.JSONRPC)
		assert.Nil(t, msg.Error, "line %q", line)
		results[msg.ID] = msg.Result
	}
	require.Contains(t, results, 1.0, "initialize was answered:\n%s", stdout)
	assert.Equal(t, "2025-11-25", results[1]["protocolVersion"])
	require.Contains(t, results, 2.0, "tools/list was answered:\n%s", stdout)
	tools, _ := results[2]["tools"].([]any)
	assert.Len(t, tools, len(wantTools))
	assert.Contains(t, stderr, "sandbox mode", "logs go to stderr")
}

// notifyWriter collects output and signals once a line matching re was written.
type notifyWriter struct {
	syncBuffer
	re   *regexp.Regexp
	once sync.Once
	hit  chan string
}

func (w *notifyWriter) Write(p []byte) (int, error) {
	n, err := w.syncBuffer.Write(p)
	if m := w.re.FindStringSubmatch(w.String()); m != nil {
		w.once.Do(func() { w.hit <- m[1] })
	}
	return n, err
}

// TestRunHTTPServesUntilCancelled: the command serves HTTP until its context
// ends (SIGINT/SIGTERM in main), then exits 0.
func TestRunHTTPServesUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stderr := &notifyWriter{re: regexp.MustCompile(`msg=listening addr=(\S+)`), hit: make(chan string, 1)}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--sandbox", "--transport", "http", "--addr", "127.0.0.1:0"}, getenv(nil), strings.NewReader(""), io.Discard, stderr)
	}()
	var addr string
	select {
	case addr = <-stderr.hit:
	case code := <-done:
		t.Fatalf("run exited %d before listening:\n%s", code, stderr.String())
	case <-time.After(callTimeout):
		t.Fatalf("not listening:\n%s", stderr.String())
	}

	resp, err := http.Get("http://" + addr + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	c, err := client.NewStreamableHttpClient("http://" + addr + "/mcp")
	require.NoError(t, err)
	e := &env{transport: "http", c: newMCPGoClient(t, c, false)}
	res := e.ok(t, "get_profile", nil)
	assert.Equal(t, "sandbox", res.structured["connection_id"])
	require.NoError(t, e.c.close())
	http.DefaultClient.CloseIdleConnections()

	cancel()
	select {
	case code := <-done:
		assert.Equal(t, 0, code, "stderr:\n%s", stderr.String())
	case <-time.After(callTimeout):
		t.Fatal("run did not return after its context ended")
	}
}

// TestRunNeverLogsSessionIDs: an SSE session id is the only credential of
// its stream's /message endpoint, so it must not reach the logs, even at
// debug level.
func TestRunNeverLogsSessionIDs(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stderr := &notifyWriter{re: regexp.MustCompile(`msg=listening addr=(\S+)`), hit: make(chan string, 1)}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--sandbox", "--transport", "http", "--addr", "127.0.0.1:0"},
			getenv(map[string]string{"OUTLOOK_MCP_LOG_LEVEL": "debug"}), strings.NewReader(""), io.Discard, stderr)
	}()
	var addr string
	select {
	case addr = <-stderr.hit:
	case <-time.After(callTimeout):
		t.Fatalf("not listening:\n%s", stderr.String())
	}
	c := connectHTTP(t, "sse", "mcp-go", "http://"+addr, "").(*mcpGoClient)
	session := c.c.GetTransport().(*mcpgotransport.SSE).GetEndpoint().Query().Get("sessionId")
	require.NotEmpty(t, session)
	e := &env{transport: "sse", c: c}
	e.ok(t, "get_profile", nil)
	e.ok(t, "search_mail", map[string]any{"limit": 1})
	require.NoError(t, c.close())
	cancel()
	select {
	case code := <-done:
		assert.Equal(t, 0, code)
	case <-time.After(callTimeout):
		t.Fatal("run did not return after its context ended")
	}
	logs := stderr.String()
	assert.Contains(t, logs, "get_profile", "the calls were logged")
	assert.NotContains(t, logs, session, "a session id reached the logs")
}

// TestLiveOutlook runs against the real Nango and Outlook when
// NANGO_SECRET_KEY and NANGO_CONNECTION_ID are set. It only reads.
func TestLiveOutlook(t *testing.T) {
	key, conn := os.Getenv("NANGO_SECRET_KEY"), os.Getenv("NANGO_CONNECTION_ID")
	if key == "" || conn == "" {
		t.Skip("set NANGO_SECRET_KEY and NANGO_CONNECTION_ID (and NANGO_INTEGRATION_ID, NANGO_HOST if not the defaults) to run against a real mailbox")
	}
	logs := &syncBuffer{}
	srv, _, err := newServer(options{}, os.Getenv, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	require.NoError(t, err)
	c, err := client.NewInProcessClient(srv)
	require.NoError(t, err)
	e := &env{transport: "in-process", c: newMCPGoClient(t, c, false)}

	for _, tc := range []struct {
		tool string
		args map[string]any
	}{
		{"get_profile", nil},
		{"search_mail", map[string]any{"limit": 1}},
	} {
		res := e.call(t, tc.tool, tc.args)
		require.NotEmpty(t, res.text, "%s must say something, success or not", tc.tool)
		if res.isError {
			t.Logf("%s: tool error (acceptable live, e.g. a missing scope): %s", tc.tool, res.text)
		} else {
			assert.NotNil(t, res.structured, "%s structured content", tc.tool)
		}
		assert.NotContains(t, res.text, key)
	}
	assert.NotContains(t, logs.String(), key, "the secret key reached the logs")
}

// listedTools runs the server over stdio with args and env and returns the
// names tools/list gives. Stdin stays open until the answer is out, as with
// a real client (closing it cancels work in progress).
func listedTools(t *testing.T, args []string, vars map[string]string) []string {
	t.Helper()
	in, feed := io.Pipe()
	stdout := &notifyWriter{re: regexp.MustCompile(`(?m)^(\{.*"id":2,.*)$`), hit: make(chan string, 1)}
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(t.Context(), append([]string{"--sandbox"}, args...), getenv(vars), in, stdout, &stderr)
	}()
	_, err := io.WriteString(feed, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"pipe","version":"0"}}}`+"\n"+
		`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`+"\n")
	require.NoError(t, err)
	var line string
	select {
	case line = <-stdout.hit:
	case code := <-done:
		t.Fatalf("exited %d before answering: %s", code, stderr.String())
	case <-time.After(callTimeout):
		t.Fatal("no tools/list answer")
	}
	require.NoError(t, feed.Close())
	require.Equal(t, 0, <-done, stderr.String())
	var msg struct {
		Result struct {
			Tools []struct{ Name string } `json:"tools"`
		} `json:"result"`
	}
	require.NoError(t, json.Unmarshal([]byte(line), &msg))
	var names []string
	for _, tool := range msg.Result.Tools {
		names = append(names, tool.Name)
	}
	slices.Sort(names)
	return names
}

// toolsetTools are a toolset's tools and get_profile, sorted.
func toolsetTools(t *testing.T, set string) []string {
	names := []string{"get_profile"}
	for _, tool := range tools.All() {
		if tool.Toolset == set && tool.Name != "get_profile" {
			names = append(names, tool.Name)
		}
	}
	slices.Sort(names)
	require.Greater(t, len(names), 1, set)
	return names
}

// readOnlyTools are the inventory's tools that change nothing, sorted.
func readOnlyTools(t *testing.T) []string {
	var names []string
	for _, tool := range tools.All() {
		if tool.Hints.ReadOnly {
			names = append(names, tool.Name)
		}
	}
	slices.Sort(names)
	require.Contains(t, names, "search_mail")
	require.NotContains(t, names, "send_mail")
	return names
}

func TestRunSelectsToolsByFlagOrEnvironment(t *testing.T) {
	assert.Equal(t, toolsetTools(t, "mail"), listedTools(t, []string{"--toolsets", "mail"}, nil))
	calendar := toolsetTools(t, "calendar")
	assert.Equal(t, calendar, listedTools(t, nil, map[string]string{"OUTLOOK_MCP_TOOLSETS": "calendar"}))
	assert.Equal(t, readOnlyTools(t), listedTools(t, []string{"--read-only"}, nil))
	assert.Equal(t, []string{"get_profile", "search_mail"}, listedTools(t, nil, map[string]string{"OUTLOOK_MCP_TOOLS": "search_mail,send_mail", "OUTLOOK_MCP_READ_ONLY": "true"}))
	assert.Equal(t, []string{"get_profile", "list_mail_folders", "search_mail"}, listedTools(t, []string{"--hide-unavailable", "--sandbox-scopes", "User.Read,Mail.ReadBasic"}, nil))
	assert.Equal(t, calendar, listedTools(t, []string{"--toolsets", "calendar"}, map[string]string{"OUTLOOK_MCP_TOOLSETS": "mail"}), "a flag beats the environment")
}

func TestRunRejectsUnknownSelections(t *testing.T) {
	code, _, stderr := runCmd(t, []string{"--sandbox", "--toolsets", "mail,tasks"}, nil, "")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, `unknown toolset "tasks" (known: mail, calendar, contacts, mailbox)`)
	code, _, stderr = runCmd(t, []string{"--sandbox"}, map[string]string{"OUTLOOK_MCP_READ_ONLY": "sometimes"}, "")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, `OUTLOOK_MCP_READ_ONLY must be true or false, not "sometimes"`)
}

// TestRunFlagsHaveVariables: every flag --x-y reads OUTLOOK_MCP_X_Y, and
// the command line beats it.
func TestRunFlagsHaveVariables(t *testing.T) {
	code, _, stderr := runCmd(t, []string{"--help"}, nil, "")
	assert.Equal(t, 0, code)
	for _, name := range []string{"transport", "addr", "sandbox", "sandbox-scopes", "toolsets", "tools", "read-only", "hide-unavailable",
		"allowed-origins", "allowed-hosts", "trusted-proxies", "max-request-bytes", "max-sessions", "max-response-tokens"} {
		assert.Contains(t, stderr, "(env "+envName(name)+")", name)
	}
	assert.NotContains(t, stderr, "OUTLOOK_MCP_VERSION", "a variable that only prints the version would be a trap")

	code, _, stderr = runCmd(t, nil, map[string]string{"OUTLOOK_MCP_MAX_SESSIONS": "many"}, "")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, `OUTLOOK_MCP_MAX_SESSIONS="many" is not a valid --max-sessions`)

	code, _, stderr = runCmd(t, nil, map[string]string{"OUTLOOK_MCP_TRANSPORT": "http", "OUTLOOK_MCP_SANDBOX": "true", "OUTLOOK_MCP_ALLOWED_ORIGINS": "https://app.example.com/"}, "")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, `--allowed-origins: "https://app.example.com/" has more than an origin`)

	// Each bad variable is overridden by its flag: what stops it then is the
	// missing token for 0.0.0.0, checked last.
	code, _, stderr = runCmd(t, []string{"--allowed-origins", "https://app.example.com", "--trusted-proxies", "10.0.0.0/8", "--max-sessions", "5", "--addr", "0.0.0.0:0"},
		map[string]string{"OUTLOOK_MCP_TRANSPORT": "http", "OUTLOOK_MCP_SANDBOX": "true", "OUTLOOK_MCP_ALLOWED_ORIGINS": "*",
			"OUTLOOK_MCP_TRUSTED_PROXIES": "proxy.local", "OUTLOOK_MCP_MAX_SESSIONS": "0", "OUTLOOK_MCP_ADDR": "127.0.0.1:0"}, "")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "OUTLOOK_MCP_TOKEN", stderr)

	code, _, stderr = runCmd(t, []string{"--sandbox"}, map[string]string{"OUTLOOK_MCP_MAX_RESPONSE_TOKENS": "100"}, "")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "--max-response-tokens must be at least 500, not 100")

	for _, bad := range [][]string{{"--max-sessions", "0"}, {"--max-request-bytes", "-1"}, {"--allowed-hosts", "https://proxy"}, {"--trusted-proxies", "10.0.0.0/40"}} {
		code, _, stderr = runCmd(t, append([]string{"--sandbox", "--transport", "http"}, bad...), nil, "")
		assert.Equal(t, 1, code, bad)
		assert.Contains(t, stderr, bad[0], "the error names the flag")
	}
}

func TestRunHTTPRefusesShortTokenBeyondLoopback(t *testing.T) {
	code, _, stderr := runCmd(t, []string{"--sandbox", "--transport", "http", "--addr", "0.0.0.0:0"}, map[string]string{"OUTLOOK_MCP_TOKEN": "x"}, "")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "OUTLOOK_MCP_TOKEN is too short")
	assert.Contains(t, stderr, "openssl rand -hex 32")
}

func TestRunAuthSettings(t *testing.T) {
	tokens := filepath.Join(t.TempDir(), "tokens")
	require.NoError(t, os.WriteFile(tokens, []byte("# ok\n0123456789abcdef0123456789abcdef backend\n"), 0o600))
	short := filepath.Join(t.TempDir(), "short")
	require.NoError(t, os.WriteFile(short, []byte("\n\nshort-token label\n"), 0o600))
	nango := map[string]string{"NANGO_SECRET_KEY": unknownKey}
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		says string
	}{
		{"unknown mode", []string{"--auth", "oauth2"}, nil, `--auth must be token, nango or oauth, not "oauth2"`},
		{"unknown mode from the environment", nil, map[string]string{"OUTLOOK_MCP_AUTH": "basic"}, `--auth must be token, nango or oauth, not "basic"`},
		{"nango over stdio", []string{"--auth", "nango"}, nango, "--auth nango is for --transport http"},
		{"nango with the static token", []string{"--transport", "http", "--auth", "nango"}, map[string]string{"NANGO_SECRET_KEY": unknownKey, "OUTLOOK_MCP_TOKEN": strings.Repeat("t", 32)}, "OUTLOOK_MCP_TOKEN is for --auth token"},
		{"tokens file in token mode", []string{"--tokens-file", tokens}, nil, "--tokens-file (OUTLOOK_MCP_TOKENS_FILE) is for --auth nango"},
		{"tokens file errors name the line", []string{"--transport", "http", "--auth", "nango", "--tokens-file", short}, nango, "line 3: the token is 11 characters"},
		{"tokens file from the environment", []string{"--transport", "http"}, map[string]string{"OUTLOOK_MCP_AUTH": "nango", "OUTLOOK_MCP_TOKENS_FILE": filepath.Join(t.TempDir(), "absent")}, "OUTLOOK_MCP_TOKENS_FILE"},
		{"a default connection in nango mode", []string{"--transport", "http", "--auth", "nango"}, map[string]string{"NANGO_SECRET_KEY": unknownKey, "NANGO_CONNECTION_ID": "u1"}, "NANGO_CONNECTION_ID is set, but with --auth nango"},
	} {
		code, stdout, stderr := runCmd(t, tc.args, tc.env, "")
		assert.Equal(t, 1, code, tc.name)
		assert.Contains(t, stderr, tc.says, tc.name)
		assert.NotContains(t, stderr, "0123456789abcdef", tc.name)
		assert.Empty(t, stdout)
	}
}

// In nango mode no default connection exists: NANGO_CONNECTION_ID is not
// needed, and beyond loopback the nango credentials suffice.
func TestRunNangoModeNeedsNoConnectionAndMayListenBeyondLoopback(t *testing.T) {
	var o options
	o.auth, o.transport, o.http.Addr = "nango", "http", "0.0.0.0:8080"
	require.NoError(t, o.authentication(getenv(map[string]string{"NANGO_SECRET_KEY": unknownKey})))
	assert.NoError(t, o.http.Check())
	_, _, err := newServer(o, getenv(map[string]string{"NANGO_SECRET_KEY": unknownKey}), slog.New(slog.DiscardHandler))
	assert.NoError(t, err)
}
func TestRunOAuthFlagsAreChecked(t *testing.T) {
	for _, tc := range []struct {
		args []string
		vars map[string]string
		want string
	}{
		{[]string{"--sandbox", "--transport", "http", "--auth", "oauth", "--oauth-issuer", "https://login.example.com"}, nil, "--public-url is required"},
		{[]string{"--sandbox", "--transport", "http", "--auth", "oauth", "--public-url", "https://mcp.example.com/mcp"}, map[string]string{"OUTLOOK_MCP_OAUTH_ISSUER": "login.example.com"}, "--oauth-issuer must be an https URL"},
		{[]string{"--sandbox", "--transport", "http", "--auth", "oauth", "--oauth-issuer", "https://login.example.com", "--public-url", "https://mcp.example.com/mcp", "--connection-lookup", "email"}, nil, "--connection-lookup must be tags or template"},
		{[]string{"--sandbox", "--transport", "http", "--auth", "oauth", "--oauth-issuer", "https://login.example.com", "--public-url", "https://mcp.example.com/mcp"}, map[string]string{"OUTLOOK_MCP_CONNECTION_LOOKUP": "template", "OUTLOOK_MCP_CONNECTION_TEMPLATE": "shared"}, "--connection-template must contain a claim"},
	} {
		code, _, stderr := runCmd(t, tc.args, tc.vars, "")
		assert.Equal(t, 1, code, tc.args)
		assert.Contains(t, stderr, tc.want, tc.args)
	}
}
