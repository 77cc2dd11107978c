package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/outlook-mcp/outlook-mcp/oauth/oauthtest"
	"github.com/outlook-mcp/outlook-mcp/sim"
)

// The built binary in oauth mode, wired by main.go: tokens of a test
// issuer on loopback (oauth/oauthtest), users found by the tag end_user_id
// in a simulated Nango on loopback with several connections.

const (
	// oauthPublicURL is the MCP endpoint as remote clients reach it, behind
	// a TLS proxy: clients in these tests dial the loopback listener, and
	// the tokens are issued for this resource.
	oauthPublicURL = "https://mcp.example.test/mcp"
	oauthChallenge = `Bearer resource_metadata="https://mcp.example.test/.well-known/oauth-protected-resource/mcp", scope="mcp.access"`
)

// oauthUser is a signed-in person: their subject and, when they have
// connected Outlook, their connection and address.
type oauthUser struct{ sub, connection, email, subjectPrefix string }

var (
	priya = oauthUser{"priya-sub", "sandbox", "priya.raman@contoso.com", ""}
	ada   = oauthUser{"ada-sub", "conn-ada", "ada.lovelace@contoso.com", "[Ada Lovelace] "}
	carol = oauthUser{sub: "carol-sub"} // signed in, never connected Outlook
)

type oauthServer struct {
	*binaryServer
	publicURL string
	iss       *oauthtest.Issuer
	sim       *sim.Sim
	auditLog  string
}

// token is a good access token of the test issuer for u (with over applied
// to its claims).
func (s *oauthServer) token(t *testing.T, u oauthUser, over map[string]any) string {
	t.Helper()
	claims := map[string]any{"scope": "openid mcp.access"}
	for k, v := range over {
		claims[k] = v
	}
	return s.iss.Token(t, u.sub, s.publicURL, claims)
}

func (s *oauthServer) audit(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(s.auditLog)
	require.NoError(t, err)
	return string(data)
}

func startOAuthBinary(t *testing.T) *oauthServer {
	t.Helper()
	return startOAuthBinaryAt(t, oauthPublicURL)
}

// startOAuthBinaryAt runs the binary in oauth mode with --public-url
// publicURL.
func startOAuthBinaryAt(t *testing.T, publicURL string) *oauthServer {
	t.Helper()
	s := &oauthServer{publicURL: publicURL, iss: oauthtest.New(t, ""), auditLog: filepath.Join(t.TempDir(), "audit.log")}
	var err error
	s.sim, err = sim.New(fixture(t), sim.Options{Users: []sim.User{{ConnectionID: ada.connection, Name: "Ada Lovelace"}}})
	require.NoError(t, err)
	// What Nango records when each user completed their Connect link.
	s.sim.SetConnectionTags(map[string]string{"end_user_id": priya.sub})
	s.sim.User(ada.connection).SetConnectionTags(map[string]string{"end_user_id": ada.sub})
	nangoHost := httptest.NewServer(s.sim)
	t.Cleanup(nangoHost.Close)
	s.binaryServer = startBinary(t, []string{"NANGO_HOST=" + nangoHost.URL, "NANGO_SECRET_KEY=" + sim.DefaultSecretKey},
		"--auth", "oauth", "--public-url", publicURL, "--oauth-issuer", s.iss.URL(), "--oauth-scope", "mcp.access",
		"--audit-log", s.auditLog)
	return s
}

var jsonHeaders = map[string]string{"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}

func withHeader(h map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range h {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// TestE2EOAuthBinaryDiscovery: without a token both transports answer 401
// with the exact challenge, whose metadata is served at both well-known
// paths, publicly, naming the public URL and the issuer; the public URL's
// host passes the Host check, another host does not.
func TestE2EOAuthBinaryDiscovery(t *testing.T) {
	s := startOAuthBinary(t)
	for _, tc := range []struct{ method, path string }{{"POST", "/mcp"}, {"GET", "/sse"}, {"POST", "/message?sessionId=x"}} {
		resp, body := request(t, tc.method, s.base+tc.path, jsonHeaders, strings.NewReader(getProfileCall))
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "%s %s: %s", tc.method, tc.path, body)
		assert.Equal(t, oauthChallenge, resp.Header.Get("WWW-Authenticate"), tc.path)
	}
	for _, path := range []string{"/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"} {
		for _, host := range []string{"", "mcp.example.test"} {
			status, header, body := rawRequest(t, "GET", s.base+path, host, "", "")
			require.Equal(t, http.StatusOK, status, "%s via %q: %s", path, host, body)
			assert.Equal(t, "*", header.Get("Access-Control-Allow-Origin"), "public: a browser client reads it before it has a token")
			var meta map[string]any
			require.NoError(t, json.Unmarshal([]byte(body), &meta))
			assert.Equal(t, oauthPublicURL, meta["resource"], path)
			assert.Equal(t, []any{s.iss.URL()}, meta["authorization_servers"], path)
			assert.Equal(t, []any{"mcp.access"}, meta["scopes_supported"], path)
		}
	}
	// Through the proxy, by the public name: served. By any other: 403.
	auth := "Bearer " + s.token(t, priya, nil)
	status, _, body := rawRequest(t, "POST", s.base+"/mcp", "mcp.example.test", auth, getProfileCall)
	assert.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, priya.email)
	for _, tc := range []struct{ method, path string }{{"POST", "/mcp"}, {"GET", "/sse"}, {"POST", "/message?sessionId=x"}} {
		status, _, body = rawRequest(t, tc.method, s.base+tc.path, "evil.example", auth, getProfileCall)
		assert.Equal(t, http.StatusForbidden, status, "%s %s: %s", tc.method, tc.path, body)
	}
	// The metadata is public (CORS *), so it is served by any name: a
	// rebound DNS name learns nothing a page could not fetch anyway.
	status, _, _ = rawRequest(t, "GET", s.base+"/.well-known/oauth-protected-resource/mcp", "evil.example", "", "")
	assert.Equal(t, http.StatusOK, status)
}

// TestE2EOAuthBinaryUsers: each signed-in user reaches their own mailbox,
// with every client library and transport; a token without the scope is
// 403 insufficient_scope; a user without a connection gets a Connect link
// made for them; no client token reaches Nango; the audit log names the
// subject and connection, never a token.
func TestE2EOAuthBinaryUsers(t *testing.T) {
	s := startOAuthBinary(t)
	tokens := map[string]string{}
	for _, u := range []oauthUser{priya, ada, carol} {
		tokens[u.sub] = s.token(t, u, nil)
	}
	for _, kind := range []string{"http", "sse"} {
		for _, clientName := range []string{"mcp-go", "go-sdk"} {
			t.Run(kind+"/"+clientName, func(t *testing.T) {
				for _, u := range []oauthUser{priya, ada} {
					c := connectHTTP(t, kind, clientName, s.base, tokens[u.sub])
					e := &env{transport: kind, c: c, sim: s.sim}
					res := e.ok(t, "get_profile", nil)
					assert.Equal(t, u.email, res.structured["email"], u.sub)
					assert.Equal(t, u.connection, res.structured["connection_id"], u.sub)
					messages := messagesOf(t, e.ok(t, "search_mail", map[string]any{"folder": "inbox", "limit": 5}))
					require.NotEmpty(t, messages, u.sub)
					for _, m := range messages {
						subject, _ := m["subject"].(string)
						if u.subjectPrefix != "" {
							assert.True(t, strings.HasPrefix(subject, u.subjectPrefix), "%s sees %q", u.sub, subject)
						} else {
							assert.NotContains(t, subject, "[Ada Lovelace]", "%s sees Ada's mail", u.sub)
						}
					}
				}
				c := connectHTTP(t, kind, clientName, s.base, tokens[carol.sub])
				text := (&env{transport: kind, c: c, sim: s.sim}).fails(t, "get_profile", nil)
				assert.Contains(t, text, "Connect your Outlook account: https://connect.nango.dev/?session_token=")
			})
		}
	}
	sessions := s.sim.ConnectSessions()
	require.NotEmpty(t, sessions)
	for _, cs := range sessions {
		assert.Equal(t, carol.sub, cs.Tags["end_user_id"], "a Connect link is made for the caller only")
		assert.Equal(t, []string{"outlook"}, cs.AllowedIntegrations)
	}

	// A token without the required scope, on both transports.
	noScope := "Bearer " + s.token(t, priya, map[string]any{"scope": "openid"})
	for _, tc := range []struct{ method, path string }{{"POST", "/mcp"}, {"GET", "/sse"}} {
		status, header, body := rawRequest(t, tc.method, s.base+tc.path, "", noScope, getProfileCall)
		assert.Equal(t, http.StatusForbidden, status, "%s: %s", tc.path, body)
		assert.Contains(t, header.Get("WWW-Authenticate"), `error="insufficient_scope"`, tc.path)
		assert.Contains(t, header.Get("WWW-Authenticate"), `scope="mcp.access"`, tc.path)
	}
	// A token for another resource (audience), and an expired one: 401.
	for name, over := range map[string]map[string]any{
		"other audience": {"aud": []string{"https://other.example/mcp"}},
		"expired":        {"exp": 1_000_000_000, "iat": 999_999_000, "nbf": 999_999_000},
	} {
		status, header, body := rawRequest(t, "POST", s.base+"/mcp", "", "Bearer "+s.token(t, priya, over), getProfileCall)
		assert.Equal(t, http.StatusUnauthorized, status, "%s: %s", name, body)
		assert.Contains(t, header.Get("WWW-Authenticate"), `error="invalid_token"`, name)
	}

	// Nango was called with the server's secret key only.
	requests := s.sim.Requests()
	require.NotEmpty(t, requests)
	for _, r := range requests {
		assert.Equal(t, "Bearer "+sim.DefaultSecretKey, r.NangoHeader.Get("Authorization"), r.Path)
		for _, vs := range r.NangoHeader {
			for _, v := range vs {
				for sub, tok := range tokens {
					assert.NotContains(t, v, tok, "%s's token reached Nango at %s", sub, r.Path)
				}
			}
		}
	}
	assert.Empty(t, s.iss.AuthSeen(), "the issuer is asked without credentials")

	logs := s.stop(t)
	audit := s.audit(t)
	seen := map[string]string{}
	for _, line := range auditLines(t, audit) {
		caller, _ := line["caller"].(string)
		conn, _ := line["connection"].(string)
		if prev, ok := seen[caller]; ok {
			assert.Equal(t, prev, conn, "one connection per caller")
		}
		seen[caller] = conn
	}
	assert.Equal(t, map[string]string{priya.sub: priya.connection, ada.sub: ada.connection, carol.sub: ""}, seen)
	for sub, tok := range tokens {
		assert.NotContains(t, audit, tok, sub)
		assert.NotContains(t, logs, tok, sub)
		// Nor any part of it: the signature alone is the secret.
		assert.NotContains(t, logs, tok[strings.LastIndex(tok, ".")+1:], sub)
	}
	assert.NotContains(t, logs, sim.DefaultSecretKey)
}

// TestE2EOAuthBinarySSESessionIsBound: an SSE session opened by one user
// refuses a /message post with another user's token (or with none): a
// leaked session id alone is worthless.
func TestE2EOAuthBinarySSESessionIsBound(t *testing.T) {
	s := startOAuthBinary(t)
	owner := map[string]string{"Authorization": "Bearer " + s.token(t, priya, nil)}
	message, events := openSSE(t, s.base, owner)
	for name, auth := range map[string]string{
		"another user":              "Bearer " + s.token(t, ada, nil),
		"a user without connection": "Bearer " + s.token(t, carol, nil),
	} {
		resp, body := request(t, "POST", message, withHeader(jsonHeaders, "Authorization", auth), strings.NewReader(getProfileCall))
		assert.Equal(t, http.StatusForbidden, resp.StatusCode, "%s: %s", name, body)
	}
	resp, body := request(t, "POST", message, jsonHeaders, strings.NewReader(getProfileCall))
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, body)
	assert.Equal(t, oauthChallenge, resp.Header.Get("WWW-Authenticate"))

	// The owner, with a fresh token for the same subject, is served.
	resp, body = request(t, "POST", message, withHeader(jsonHeaders, "Authorization", "Bearer "+s.token(t, priya, map[string]any{"jti": "second"})), strings.NewReader(getProfileCall))
	require.Equal(t, http.StatusAccepted, resp.StatusCode, body)
	answer := readEvent(t, events, 1)
	assert.Contains(t, answer, priya.email)
	assert.NotContains(t, answer, ada.email)
	for _, r := range s.sim.Requests() {
		if r.Proxy {
			assert.Equal(t, priya.connection, r.NangoHeader.Get("Connection-Id"), "only the owner's mailbox was reached")
		}
	}
}

// sdkSignIn is the Go SDK's OAuth handler for a client that signs its user
// in without a browser: on a refusal it follows the challenge to the
// resource's metadata, and gets a token for that resource from the
// authorization server the metadata names (the test issuer mints it, as a
// client-credentials grant would).
type sdkSignIn struct {
	t    *testing.T
	s    *oauthServer
	user oauthUser

	mu         sync.Mutex
	token      string
	challenges []string
}

func (h *sdkSignIn) TokenSource(context.Context) (oauth2.TokenSource, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.token == "" {
		return nil, nil
	}
	return oauth2.StaticTokenSource(&oauth2.Token{AccessToken: h.token, TokenType: "Bearer"}), nil
}

func (h *sdkSignIn) Authorize(ctx context.Context, _ *http.Request, resp *http.Response) error {
	resp.Body.Close()
	challenge := resp.Header.Get("WWW-Authenticate")
	h.mu.Lock()
	h.challenges = append(h.challenges, challenge)
	h.mu.Unlock()
	m := regexp.MustCompile(`resource_metadata="([^"]+)"`).FindStringSubmatch(challenge)
	if m == nil {
		return fmt.Errorf("no resource_metadata in %q", challenge)
	}
	// The metadata's public URL, reached through the loopback listener.
	u, err := url.Parse(m[1])
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, "GET", h.s.base+u.Path, nil)
	if err != nil {
		return err
	}
	req.Host = u.Host
	mresp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer mresp.Body.Close()
	var meta struct {
		Resource             string   `json:"resource"`
		AuthorizationServers []string `json:"authorization_servers"`
		ScopesSupported      []string `json:"scopes_supported"`
	}
	if err := json.NewDecoder(mresp.Body).Decode(&meta); err != nil {
		return err
	}
	if len(meta.AuthorizationServers) != 1 || meta.AuthorizationServers[0] != h.s.iss.URL() {
		return fmt.Errorf("metadata names authorization servers %v", meta.AuthorizationServers)
	}
	tok := h.s.iss.Token(h.t, h.user.sub, meta.Resource, map[string]any{"scope": strings.Join(meta.ScopesSupported, " ")})
	h.mu.Lock()
	h.token = tok
	h.mu.Unlock()
	return nil
}

// TestE2EOAuthBinaryGoSDKSignsIn: the official Go SDK over streamable HTTP
// with its OAuth handler: refused without a token (or with an expired one),
// it is handed the challenge, discovers the metadata, gets a token for the
// resource it names, retries, and reaches the user's own mailbox.
func TestE2EOAuthBinaryGoSDKSignsIn(t *testing.T) {
	s := startOAuthBinary(t)
	for name, tc := range map[string]struct {
		user      oauthUser
		first     string
		challenge string
	}{
		"no token yet":  {priya, "", oauthChallenge},
		"expired token": {ada, s.token(t, ada, map[string]any{"exp": time.Now().Add(-time.Hour).Unix(), "iat": time.Now().Add(-2 * time.Hour).Unix(), "nbf": time.Now().Add(-2 * time.Hour).Unix()}), oauthChallenge + `, error="invalid_token"`},
	} {
		t.Run(name, func(t *testing.T) {
			h := &sdkSignIn{t: t, s: s, user: tc.user, token: tc.first}
			c := newGoSDKClient(t, &sdk.StreamableClientTransport{Endpoint: s.base + "/mcp", OAuthHandler: h, MaxRetries: -1}, false)
			e := &env{transport: "http", c: c, sim: s.sim}
			res := e.ok(t, "get_profile", nil)
			assert.Equal(t, tc.user.email, res.structured["email"])
			assert.Equal(t, tc.user.connection, res.structured["connection_id"])
			h.mu.Lock()
			defer h.mu.Unlock()
			require.Len(t, h.challenges, 1, "signed in once")
			assert.True(t, strings.HasPrefix(h.challenges[0], tc.challenge), h.challenges[0])
		})
	}
}
