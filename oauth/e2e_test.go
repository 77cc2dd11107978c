package oauth

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outlook-mcp/outlook-mcp/identity"
	"github.com/outlook-mcp/outlook-mcp/oauth/oauthtest"
	"github.com/outlook-mcp/outlook-mcp/tools"
)

// serveMCP wires the authenticator in front of the real tools over
// streamable HTTP, as the transport does: refusals are written as they
// are, the identity travels in the request context.
func serveMCP(t *testing.T, f *fixture) *httptest.Server {
	t.Helper()
	deps := tools.Deps{Nango: f.auth.cfg.Nango} // no default connection: the identity names it
	mcpHandler := server.NewStreamableHTTPServer(tools.NewServer("test", deps, tools.All()),
		server.WithStateLess(true),
		server.WithHTTPContextFunc(func(ctx context.Context, r *http.Request) context.Context {
			who, _ := identity.From(r.Context())
			return identity.With(ctx, who)
		}))
	mux := http.NewServeMux()
	f.auth.Mount(mux)
	mux.HandleFunc("/mcp", func(w http.ResponseWriter, r *http.Request) {
		who, no := f.auth.Authenticate(r)
		if no != nil {
			no.Write(w)
			return
		}
		mcpHandler.ServeHTTP(w, r.WithContext(identity.With(r.Context(), who)))
	})
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	return hs
}

func connect(t *testing.T, url, token string) *client.Client {
	t.Helper()
	c, err := client.NewStreamableHttpClient(url, transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + token}))
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	ctx := context.Background()
	require.NoError(t, c.Start(ctx))
	_, err = c.Initialize(ctx, mcp.InitializeRequest{Params: mcp.InitializeParams{ProtocolVersion: mcp.LATEST_PROTOCOL_VERSION}})
	require.NoError(t, err)
	return c
}

func callTool(t *testing.T, c *client.Client, name string) (string, bool) {
	t.Helper()
	res, err := c.CallTool(context.Background(), mcp.CallToolRequest{Params: mcp.CallToolParams{Name: name, Arguments: map[string]any{}}})
	require.NoError(t, err)
	var b strings.Builder
	for _, ct := range res.Content {
		if tc, ok := ct.(mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String(), res.IsError
}

func TestEndToEndDiscoveryOnboardingAndCalls(t *testing.T) {
	f := setup(t, func(c *Config, _ *oauthtest.Issuer) { c.Scope = "mcp.access" })
	hs := serveMCP(t, f)

	// Discovery: 401 without a token, then the metadata it points at.
	resp, err := http.Post(hs.URL+"/mcp", "application/json", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 401, resp.StatusCode)
	challenge := resp.Header.Get("WWW-Authenticate")
	assert.Contains(t, challenge, wantMetadataURL)
	metaPath := strings.TrimPrefix(strings.Split(challenge, `"`)[1], "https://mcp.example.com")
	resp, err = http.Get(hs.URL + metaPath)
	require.NoError(t, err)
	var meta map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&meta))
	resp.Body.Close()
	assert.Equal(t, []any{f.iss.URL()}, meta["authorization_servers"])

	// Signed in, not connected yet: every tool offers the Connect link.
	tok := f.token(t, nil)
	c := connect(t, hs.URL+"/mcp", tok)
	list, err := c.ListTools(context.Background(), mcp.ListToolsRequest{})
	require.NoError(t, err)
	assert.NotEmpty(t, list.Tools, "tools are listed before the user connects")
	text, isErr := callTool(t, c, "get_profile")
	assert.True(t, isErr)
	assert.Contains(t, text, "Connect your Outlook account: https://connect.nango.dev/?session_token=")
	sessions := f.sim.ConnectSessions()
	require.Len(t, sessions, 1)
	assert.Equal(t, "alice-sub", sessions[0].Tags["end_user_id"])

	// The user completes the link; Nango tags the new connection.
	f.sim.SetConnectionTags(sessions[0].Tags)
	f.clock.Add(16 * time.Second)
	text, isErr = callTool(t, c, "get_profile")
	assert.False(t, isErr, text)
	assert.Contains(t, text, `Nango connection "sandbox"`)

	// The client's token never reached Nango.
	for _, r := range f.sim.Requests() {
		for _, vs := range r.NangoHeader {
			for _, v := range vs {
				assert.NotContains(t, v, tok)
			}
		}
	}

	// A token without the scope: 403 insufficient_scope.
	req, _ := http.NewRequest("POST", hs.URL+"/mcp", strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Bearer "+f.token(t, map[string]any{"scope": "openid"}))
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 403, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("WWW-Authenticate"), `error="insufficient_scope"`)
}
