package transport

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outlook-mcp/outlook-mcp/identity"
)

const (
	testSecretKey = "7d3f2c1a-9b4e-4f6a-8c2d-5e1b0a9f3c74"
	serviceToken  = "svc-0123456789abcdef0123456789abcdef"
	whoamiCall    = `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"whoami"}}`
)

// whoamiServer has a tool that answers with the identity and caller its
// context carries.
func whoamiServer() *server.MCPServer {
	s := server.NewMCPServer("t", "1", server.WithToolCapabilities(false))
	s.AddTool(mcp.NewTool("whoami"), func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		id, ok := identity.From(ctx)
		return mcp.NewToolResultText(fmt.Sprintf("%v|%s|%s|%s|%s", ok, id.Caller, id.Integration, id.Connection, CallerOf(ctx))), nil
	})
	return s
}

func startNango(t *testing.T) string {
	t.Helper()
	auth, err := NangoAuth(NangoAuthConfig{SecretKey: testSecretKey, Integration: "outlook",
		Tokens: []ServiceToken{{Token: serviceToken, Label: "backend-a"}}})
	require.NoError(t, err)
	h, err := Handler(whoamiServer(), HTTPConfig{Auth: auth})
	require.NoError(t, err)
	srv := httptestServer(t, h)
	return srv
}

// whoami calls the whoami tool over /mcp with header and returns the status
// and the tool's text (or the refusal).
func whoami(t *testing.T, base string, header map[string]string) (int, string) {
	t.Helper()
	code, _, body := status(t, base, req{path: "/mcp", header: header, body: whoamiCall})
	if code != http.StatusOK {
		return code, body
	}
	return code, toolText(t, body)
}

func toolText(t *testing.T, body string) string {
	t.Helper()
	body = strings.TrimSpace(body)
	if data, ok := strings.CutPrefix(body, "event: message\ndata: "); ok {
		body = data
	}
	var m struct {
		Result struct{ Content []struct{ Text string } }
	}
	require.NoError(t, json.Unmarshal([]byte(body), &m), body)
	require.NotEmpty(t, m.Result.Content, body)
	return m.Result.Content[0].Text
}

func nangoHeaders(key, connection string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + key, "connection-id": connection}
}

func TestNangoModeNamesTheConnectionPerRequest(t *testing.T) {
	base := startNango(t)
	code, text := whoami(t, base, nangoHeaders(testSecretKey, "alice"))
	require.Equal(t, http.StatusOK, code, text)
	assert.Equal(t, "true|nango-secret-key|outlook|alice|user:nango-secret-key\x00outlook\x00alice", text)

	h := nangoHeaders(serviceToken, "bob@contoso.com")
	h["provider-config-key"] = "outlook-eu"
	code, text = whoami(t, base, h)
	require.Equal(t, http.StatusOK, code, text)
	assert.Equal(t, "true|token:backend-a|outlook-eu|bob@contoso.com|user:token:backend-a\x00outlook-eu\x00bob@contoso.com", text)

	// The bearer scheme is case-insensitive (RFC 6750).
	code, _ = whoami(t, base, map[string]string{"Authorization": "bearer " + testSecretKey, "connection-id": "alice"})
	assert.Equal(t, http.StatusOK, code)
}

func TestNangoModeRefusesBadHeaders(t *testing.T) {
	base := startNango(t)
	for _, tc := range []struct {
		name   string
		header map[string]string
		code   int
		says   string
	}{
		{"no credentials", map[string]string{"connection-id": "alice"}, 401, "connection-id: <the user's Nango connection id>"},
		{"basic auth", map[string]string{"Authorization": "Basic Zm9vOmJhcg==", "connection-id": "alice"}, 401, "Authorization: Bearer <key>"},
		{"no connection", nangoHeaders(testSecretKey, ""), 400, "header connection-id: missing"},
		{"empty connection", map[string]string{"Authorization": "Bearer " + testSecretKey, "connection-id": " "}, 400, "header connection-id: empty"},
		{"dot", nangoHeaders(testSecretKey, "."), 400, "not an id"},
		{"dot dot", nangoHeaders(testSecretKey, ".."), 400, "not an id"},
		{"slash", nangoHeaders(testSecretKey, "../connections/bob"), 400, `'/' is not allowed`},
		{"percent", nangoHeaders(testSecretKey, "bob%2F.."), 400, `'%' is not allowed`},
		{"interpolation", nangoHeaders(testSecretKey, "${connectionId}"), 400, `'$' is not allowed`},
		{"space", nangoHeaders(testSecretKey, "alice bob"), 400, `' ' is not allowed`},
		{"comma", nangoHeaders(testSecretKey, "alice,bob"), 400, `',' is not allowed`},
		{"quote", nangoHeaders(testSecretKey, `alice"`), 400, `'"' is not allowed`},
		{"unicode", nangoHeaders(testSecretKey, "alicé"), 400, `'é' is not allowed`},
		{"too long", nangoHeaders(testSecretKey, strings.Repeat("a", 256)), 400, "longer than 255"},
		{"bad integration", merge(nangoHeaders(testSecretKey, "alice"), map[string]string{"provider-config-key": "out look"}), 400, "header provider-config-key"},
	} {
		code, body := whoami(t, base, tc.header)
		assert.Equal(t, tc.code, code, "%s: %s", tc.name, body)
		assert.Contains(t, body, tc.says, tc.name)
		assert.NotContains(t, body, testSecretKey, tc.name)
	}
	// A connection id at the length bound, with every allowed character.
	code, text := whoami(t, base, nangoHeaders(testSecretKey, strings.Repeat("a", 240)+"Z9-_.@:+=~|"))
	assert.Equal(t, http.StatusOK, code, text)

	// Sent twice: neither is believed.
	hr, _ := http.NewRequest(http.MethodPost, base+"/mcp", strings.NewReader(whoamiCall))
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Authorization", "Bearer "+testSecretKey)
	hr.Header.Add("connection-id", "alice")
	hr.Header.Add("connection-id", "bob")
	resp, err := http.DefaultClient.Do(hr)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

func TestNangoModeThrottlesWrongKeysOnly(t *testing.T) {
	base := startNango(t)
	// Missing or malformed connection ids, and missing credentials, are
	// mistakes, not guesses: they never lock a client out.
	for range 3 * authFailureLimit {
		code, _ := whoami(t, base, nangoHeaders(testSecretKey, ""))
		require.Equal(t, http.StatusBadRequest, code)
		code, _ = whoami(t, base, map[string]string{"connection-id": "alice"})
		require.Equal(t, http.StatusUnauthorized, code)
	}
	code, _ := whoami(t, base, nangoHeaders(testSecretKey, "alice"))
	require.Equal(t, http.StatusOK, code)
	for i := range authFailureLimit {
		code, body := whoami(t, base, nangoHeaders(fmt.Sprintf("guess-%032d", i), "alice"))
		require.Equal(t, http.StatusUnauthorized, code, body)
		assert.NotContains(t, body, "guess")
	}
	code, _ = whoami(t, base, nangoHeaders(testSecretKey, "alice"))
	assert.Equal(t, http.StatusTooManyRequests, code, "even the right key waits out the window")
}

func TestTokenModeRefusesAConnectionHeader(t *testing.T) {
	for _, token := range []string{testToken, ""} {
		h, err := Handler(whoamiServer(), HTTPConfig{Token: token})
		require.NoError(t, err)
		base := httptestServer(t, h)
		header := map[string]string{"Authorization": "Bearer " + testToken}
		code, text := whoami(t, base, header)
		require.Equal(t, http.StatusOK, code, text)
		caller := map[string]string{testToken: "token", "": ""}[token]
		assert.True(t, strings.HasPrefix(text, "true|"+caller+"|||addr:127.0.0.1"), text)
		for _, name := range []string{"connection-id", "Connection-Id", "provider-config-key"} {
			code, body := whoami(t, base, merge(header, map[string]string{name: "bob"}))
			assert.Equal(t, http.StatusBadRequest, code, body)
			assert.Contains(t, body, "--auth nango", "says what to change")
		}
		// Never counted as a guess.
		for range 2 * authFailureLimit {
			code, _ := whoami(t, base, merge(header, map[string]string{"connection-id": "bob"}))
			require.Equal(t, http.StatusBadRequest, code)
		}
		code, _ = whoami(t, base, header)
		assert.Equal(t, http.StatusOK, code)
	}
}

// An authenticator that does slow I/O for one client holds up only that
// client's later attempts.
func TestSlowAuthenticationHoldsUpOnlyItsClient(t *testing.T) {
	th := newThrottle()
	release := make(chan struct{})
	started := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		_, _, _ = th.attempt(context.Background(), "slow", func() bool { close(started); <-release; return false })
	})
	<-started
	done := make(chan struct{})
	go func() {
		_, _, _ = th.attempt(context.Background(), "other", func() bool { return true })
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("another client waited for a slow authentication")
	}
	// The same client waits its turn, and gives up when it leaves.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, _, err := th.attempt(ctx, "slow", func() bool { t.Error("ran beside the slow one"); return false })
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	close(release)
	wg.Wait()
	th.mu.Lock()
	defer th.mu.Unlock()
	assert.Empty(t, th.turns, "no turn left behind")
}

func TestNangoAuthNeedsAKey(t *testing.T) {
	_, err := NangoAuth(NangoAuthConfig{Integration: "outlook"})
	assert.ErrorContains(t, err, "OUTLOOK_MCP_TOKENS_FILE")
	_, err = NangoAuth(NangoAuthConfig{SecretKey: testSecretKey})
	assert.ErrorContains(t, err, "NANGO_INTEGRATION_ID")
}

func TestNangoModeListensBeyondLoopback(t *testing.T) {
	auth, err := NangoAuth(NangoAuthConfig{SecretKey: testSecretKey, Integration: "outlook"})
	require.NoError(t, err)
	assert.NoError(t, HTTPConfig{Addr: "0.0.0.0:8080", Auth: auth}.Check())
	assert.ErrorContains(t, HTTPConfig{Addr: "0.0.0.0:8080"}.Check(), "OUTLOOK_MCP_TOKEN")
	assert.ErrorContains(t, HTTPConfig{Addr: "8080", Auth: auth}.Check(), "host:port")
}

func httptestServer(t *testing.T, h http.Handler) string {
	t.Helper()
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts.URL
}

// A leaked SSE session id is worthless without the credentials and the
// connection that opened the session.
func TestSSESessionIsBoundToTheIdentityThatOpenedIt(t *testing.T) {
	base := startNango(t)
	alice := nangoHeaders(testSecretKey, "alice")
	stream, message := sessionEndpoint(t, base, alice)
	events := bufio.NewScanner(stream.Body)
	next := func() string {
		for events.Scan() {
			if data, ok := strings.CutPrefix(events.Text(), "data: "); ok && strings.Contains(data, `"id":7`) {
				return toolText(t, data)
			}
		}
		t.Fatal("the stream ended")
		return ""
	}
	post := func(header map[string]string) (int, string) {
		code, _, body := status(t, base, req{path: message, header: header, body: whoamiCall})
		return code, body
	}
	code, body := post(alice)
	require.Equal(t, http.StatusAccepted, code, body)
	assert.Equal(t, "true|nango-secret-key|outlook|alice|user:nango-secret-key\x00outlook\x00alice", next())

	for name, h := range map[string]map[string]string{
		"another connection":  nangoHeaders(testSecretKey, "bob"),
		"another caller":      nangoHeaders(serviceToken, "alice"),
		"another integration": merge(alice, map[string]string{"provider-config-key": "outlook-eu"}),
	} {
		code, body := post(h)
		assert.Equal(t, http.StatusForbidden, code, "%s: %s", name, body)
		assert.Contains(t, body, "same Authorization and connection headers", name)
	}
	code, _ = post(map[string]string{"connection-id": "alice"})
	assert.Equal(t, http.StatusUnauthorized, code, "no credentials")
	code, _ = post(map[string]string{"Authorization": "Bearer " + testSecretKey})
	assert.Equal(t, http.StatusBadRequest, code, "no connection")

	// The session still answers its owner, as alice.
	code, _ = post(merge(alice, map[string]string{"provider-config-key": "outlook"}))
	require.Equal(t, http.StatusAccepted, code, "the default integration, named")
	assert.Equal(t, "true|nango-secret-key|outlook|alice|user:nango-secret-key\x00outlook\x00alice", next())
}

// FuzzConnectionIDHeader: whatever a client sends, an accepted connection
// id is one Nango reads as the same id in a header and in a path.
func FuzzConnectionIDHeader(f *testing.F) {
	for _, seed := range []string{"alice", "..", ".", "a/../b", "%2e%2e", "${x}", "a\r\nb", "user@contoso.com", "é", strings.Repeat("a", 256)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) {
		r := &http.Request{Header: http.Header{"Connection-Id": {v}}}
		got, refusal := nameHeader(r, headerConnection, true)
		if refusal != nil {
			assert.Equal(t, http.StatusBadRequest, refusal.Status)
			assert.False(t, refusal.Guess)
			return
		}
		assert.Equal(t, v, got)
		assert.NotContains(t, []string{".", ".."}, got)
		assert.LessOrEqual(t, len(got), maxNameLength)
		escaped := url.PathEscape(got)
		assert.NotContains(t, escaped, "/", "one path segment")
		back, err := url.PathUnescape(escaped)
		assert.NoError(t, err)
		assert.Equal(t, got, back)
		assert.NotContains(t, got, "${")
	})
}

// FuzzTokensFile: a file either fails with a line number or yields tokens
// of at least 32 printable characters, each with a label.
func FuzzTokensFile(f *testing.F) {
	f.Add("# c\n" + testToken + " label\n\n")
	f.Add(testToken + "\t\tl\n" + testToken + "x")
	f.Add(testToken + " a\n" + testToken + " a")
	f.Fuzz(func(t *testing.T, file string) {
		tokens, err := parseTokens([]byte(file))
		if err != nil {
			return
		}
		for _, tok := range tokens {
			assert.GreaterOrEqual(t, len(tok.Token), minTokenLength)
			assert.Equal(t, -1, strings.IndexFunc(tok.Token, notTokenChar))
			assert.NotEmpty(t, tok.Label)
			for _, other := range tokens {
				assert.NotContains(t, tok.Label, other.Token)
			}
		}
	})
}

// An authenticator's refusal without a proper status is still a refusal.
func TestARefusalIsAlwaysAClientError(t *testing.T) {
	for _, st := range []int{0, 200, 302, 500} {
		auth := AuthenticatorFunc(func(*http.Request) (identity.Identity, *AuthError) {
			return identity.Identity{}, &AuthError{Status: st, Message: "no"}
		})
		h, err := Handler(whoamiServer(), HTTPConfig{Auth: auth})
		require.NoError(t, err)
		code, body := whoami(t, httptestServer(t, h), nil)
		assert.Equal(t, http.StatusUnauthorized, code, "status %d: %s", st, body)
	}
}
