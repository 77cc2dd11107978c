package oauth

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outlook-mcp/outlook-mcp/identity"
	"github.com/outlook-mcp/outlook-mcp/nango"
	"github.com/outlook-mcp/outlook-mcp/oauth/oauthtest"
	"github.com/outlook-mcp/outlook-mcp/sim"
)

const publicURL = "https://mcp.example.com/mcp"

type fixture struct {
	iss   *oauthtest.Issuer
	sim   *sim.Sim
	auth  *Authenticator
	clock *oauthtest.Clock
}

func setup(t *testing.T, mutate ...func(*Config, *oauthtest.Issuer)) *fixture {
	t.Helper()
	return setupAt(t, "", mutate...)
}

// setupAt starts an issuer at path, a simulated Nango whose connection
// "sandbox" is untagged, and an authenticator for publicURL.
func setupAt(t *testing.T, path string, mutate ...func(*Config, *oauthtest.Issuer)) *fixture {
	t.Helper()
	f := &fixture{iss: oauthtest.New(t, path), clock: oauthtest.NewClock(time.Now())}
	fixture, err := os.ReadFile("../testdata/mailbox.json")
	require.NoError(t, err)
	f.sim, err = sim.New(fixture, sim.Options{})
	require.NoError(t, err)
	nc, err := nango.New(nango.Config{Host: "http://nango.test", SecretKey: sim.DefaultSecretKey, IntegrationID: "outlook", HTTPClient: f.sim.Client()})
	require.NoError(t, err)
	cfg := Config{PublicURL: publicURL, Issuer: f.iss.URL(), Nango: nc, Now: f.clock.Now}
	for _, m := range mutate {
		m(&cfg, f.iss)
	}
	f.auth, err = New(cfg)
	require.NoError(t, err)
	return f
}

// claims are a good token's claims for alice, with over applied (a nil
// value removes the claim).
func (f *fixture) claims(over map[string]any) map[string]any {
	now := f.clock.Now()
	c := map[string]any{
		"iss":   f.iss.URL(),
		"aud":   []string{publicURL},
		"sub":   "alice-sub",
		"email": "alice@contoso.com",
		"iat":   now.Unix(),
		"nbf":   now.Unix(),
		"exp":   now.Add(time.Hour).Unix(),
		"scope": "openid mcp.access",
	}
	for k, v := range over {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

func (f *fixture) token(t *testing.T, over map[string]any) string {
	return f.iss.Sign(t, "rsa-1", f.claims(over))
}

func (f *fixture) authenticate(token string) (identity.Identity, *Refusal) {
	r := httptest.NewRequest("POST", "/mcp", nil)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	return f.auth.Authenticate(r)
}

const wantMetadataURL = `resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"`

func TestValidTokenFindsTheTaggedConnection(t *testing.T) {
	for _, tc := range []struct {
		name, path string
		rfc8414    bool
	}{
		{"OIDC discovery", "", false},
		{"RFC 8414 metadata, issuer with a path", "/realms/acme", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := setupAt(t, tc.path, func(_ *Config, iss *oauthtest.Issuer) { iss.OnlyRFC8414(tc.rfc8414) })
			f.sim.SetConnectionTags(map[string]string{"end_user_id": "alice-sub"})
			for _, kid := range []string{"rsa-1", "ec-1"} {
				who, no := f.authenticate(f.iss.Sign(t, kid, f.claims(nil)))
				require.Nil(t, no, "%+v", no)
				assert.Equal(t, identity.Identity{Caller: "alice-sub", Connection: "sandbox", EndUser: identity.EndUser{ID: "alice-sub", Email: "alice@contoso.com"}}, who)
			}
			assert.Equal(t, 1, f.iss.JWKSHits(), "keys fetched once")
			assert.Equal(t, 1, countPath(f.sim, "/connections"), "the lookup is cached")
		})
	}
}

func countPath(s *sim.Sim, path string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Path == path {
			n++
		}
	}
	return n
}

func TestUserWithoutConnectionIsLetInWithoutOne(t *testing.T) {
	f := setup(t)
	who, no := f.authenticate(f.token(t, nil))
	require.Nil(t, no)
	assert.Equal(t, "", who.Connection, "no connection yet: tools answer with a Connect link")
	assert.Equal(t, identity.EndUser{ID: "alice-sub", Email: "alice@contoso.com"}, who.EndUser)

	// The user connects (Nango tags the new connection); the brief
	// negative cache delays it only by seconds.
	f.sim.SetConnectionTags(map[string]string{"end_user_id": "alice-sub"})
	who, _ = f.authenticate(f.token(t, nil))
	assert.Equal(t, "", who.Connection, "still cached as not found")
	f.clock.Add(16 * time.Second)
	who, _ = f.authenticate(f.token(t, nil))
	assert.Equal(t, "sandbox", who.Connection)
	assert.Equal(t, 2, countPath(f.sim, "/connections"))
}

func TestConnectionClaim(t *testing.T) {
	f := setup(t, func(c *Config, _ *oauthtest.Issuer) { c.Claim = "oid" })
	f.sim.SetConnectionTags(map[string]string{"end_user_id": "7d1e-oid"})
	who, no := f.authenticate(f.token(t, map[string]any{"oid": "7d1e-oid"}))
	require.Nil(t, no)
	assert.Equal(t, "sandbox", who.Connection)
	assert.Equal(t, "alice-sub", who.Caller)

	_, no = f.authenticate(f.token(t, nil))
	require.NotNil(t, no, "no oid claim")
	assert.Equal(t, 403, no.Status)
	assert.Contains(t, no.Message, `"oid"`)
}

func TestMissingToken(t *testing.T) {
	f := setup(t, func(c *Config, _ *oauthtest.Issuer) { c.Scope = "mcp.access" })
	_, no := f.authenticate("")
	require.NotNil(t, no)
	assert.Equal(t, 401, no.Status)
	assert.False(t, no.Failed, "a client's discovery starts without a token: not a guess")
	assert.Equal(t, `Bearer `+wantMetadataURL+`, scope="mcp.access"`, no.Challenge)

	w := httptest.NewRecorder()
	no.Write(w)
	assert.Equal(t, 401, w.Code)
	assert.Equal(t, no.Challenge, w.Header().Get("WWW-Authenticate"))
}

func TestInvalidTokens(t *testing.T) {
	f := setup(t)
	now := f.clock.Now()
	good := f.token(t, nil)
	parts := strings.Split(good, ".")
	enc := base64.RawURLEncoding

	rsaKey := f.iss.Key("rsa-1").(*rsa.PrivateKey)
	pubDER, err := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	require.NoError(t, err)
	jwk, err := json.Marshal(jose.JSONWebKey{Key: &rsaKey.PublicKey, KeyID: "rsa-1"})
	require.NoError(t, err)

	otherIssuer := oauthtest.New(t, "")

	cases := map[string]string{
		"expired":                   f.token(t, map[string]any{"exp": now.Add(-2 * time.Minute).Unix()}),
		"not yet valid":             f.token(t, map[string]any{"nbf": now.Add(2 * time.Minute).Unix()}),
		"no exp":                    f.token(t, map[string]any{"exp": nil}),
		"no sub":                    f.token(t, map[string]any{"sub": nil}),
		"wrong audience":            f.token(t, map[string]any{"aud": []string{"https://other.example.com/mcp"}}),
		"audience as prefix":        f.token(t, map[string]any{"aud": "https://mcp.example.com"}),
		"wrong issuer":              f.token(t, map[string]any{"iss": otherIssuer.URL()}),
		"signed by another issuer":  otherIssuer.Sign(t, "rsa-1", f.claims(nil)),
		"unknown kid":               oauthtest.SignWith(t, jose.RS256, otherIssuer.Key("rsa-1"), "made-up", f.claims(nil)),
		"alg none":                  enc.EncodeToString([]byte(`{"alg":"none","kid":"rsa-1"}`)) + "." + parts[1] + ".",
		"HMAC with the DER key":     oauthtest.SignWith(t, jose.HS256, pubDER, "rsa-1", f.claims(nil)),
		"HMAC with the JWK":         oauthtest.SignWith(t, jose.HS256, jwk, "rsa-1", f.claims(nil)),
		"tampered payload":          parts[0] + "." + enc.EncodeToString([]byte(`{"iss":"`+f.iss.URL()+`","aud":"`+publicURL+`","sub":"mallory","exp":`+fmt.Sprint(now.Add(time.Hour).Unix())+`}`)) + "." + parts[2],
		"tampered signature":        parts[0] + "." + parts[1] + "." + flip(parts[2]),
		"not a JWT":                 "opaque-token-value",
		"EC key named for RSA sigs": oauthtest.SignWith(t, jose.ES256, f.iss.Key("ec-1"), "rsa-1", f.claims(nil)),
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			who, no := f.authenticate(tok)
			require.NotNil(t, no, "accepted as %+v", who)
			assert.Equal(t, 401, no.Status)
			assert.True(t, no.Failed, "a bad token counts as a failed guess")
			assert.Contains(t, no.Challenge, wantMetadataURL)
			assert.Contains(t, no.Challenge, `error="invalid_token"`)
		})
	}
	assert.Empty(t, f.sim.Requests(), "no refused token reaches Nango")
	t.Run("not a bearer header", func(t *testing.T) {
		r := httptest.NewRequest("POST", "/mcp", nil)
		r.Header.Set("Authorization", "Basic YWxpY2U6cHc=")
		_, no := f.auth.Authenticate(r)
		require.NotNil(t, no)
		assert.Equal(t, 401, no.Status)
		assert.Contains(t, no.Challenge, `error="invalid_token"`)
	})
	t.Run("clock skew tolerated", func(t *testing.T) {
		_, no := f.authenticate(f.token(t, map[string]any{"exp": now.Add(-30 * time.Second).Unix(), "nbf": now.Add(30 * time.Second).Unix()}))
		assert.Nil(t, no)
	})
	t.Run("expired says so", func(t *testing.T) {
		_, no := f.authenticate(cases["expired"])
		assert.Contains(t, no.Challenge, `error_description="the access token expired"`)
	})
}

// flip changes the first character of a base64url string.
func flip(s string) string {
	c := byte('A')
	if s[0] == 'A' {
		c = 'B'
	}
	return string(c) + s[1:]
}

func TestScope(t *testing.T) {
	f := setup(t, func(c *Config, _ *oauthtest.Issuer) { c.Scope = "mcp.access" })
	for name, over := range map[string]map[string]any{
		"scope string": nil,
		"scp string":   {"scope": nil, "scp": "mcp.access User.Read"},
		"scp list":     {"scope": nil, "scp": []string{"mcp.access"}},
	} {
		_, no := f.authenticate(f.token(t, over))
		assert.Nil(t, no, name)
	}

	_, no := f.authenticate(f.token(t, map[string]any{"scope": "openid mcp.access.other"}))
	require.NotNil(t, no)
	assert.Equal(t, 403, no.Status)
	assert.False(t, no.Failed)
	assert.Equal(t, `Bearer `+wantMetadataURL+`, scope="mcp.access", error="insufficient_scope", error_description="the access token lacks a required scope"`, no.Challenge)
	assert.Contains(t, no.Message, "mcp.access")
}

func TestEntraScopeURI(t *testing.T) {
	// Clients ask Entra ID for api://<app>/mcp.access; its token says scp "mcp.access".
	f := setup(t, func(c *Config, _ *oauthtest.Issuer) {
		c.Scope, c.Audience = "api://5c1f0a9e/mcp.access", "5c1f0a9e"
	})
	_, no := f.authenticate(f.token(t, map[string]any{"aud": "5c1f0a9e", "scope": nil, "scp": "mcp.access"}))
	assert.Nil(t, no)
	_, no = f.authenticate(f.token(t, map[string]any{"aud": "5c1f0a9e", "scope": nil, "scp": "other"}))
	require.NotNil(t, no)
	assert.Equal(t, 403, no.Status)
	_, no = f.authenticate(f.token(t, map[string]any{"scp": "mcp.access"}))
	require.NotNil(t, no, "aud is the public URL, not the configured audience")
	assert.Equal(t, 401, no.Status)
}

func TestKeyRotationAndRefetchLimit(t *testing.T) {
	f := setup(t)
	_, no := f.authenticate(f.token(t, nil))
	require.Nil(t, no)
	require.Equal(t, 1, f.iss.JWKSHits())

	// A flood of tokens naming made-up keys costs the issuer at most one
	// fetch per refetch interval.
	flood := func() {
		for i := range 50 {
			_, no := f.authenticate(oauthtest.SignWith(t, jose.RS256, f.iss.Key("rsa-1"), fmt.Sprintf("random-%d", i), f.claims(nil)))
			require.NotNil(t, no)
			assert.Equal(t, 401, no.Status)
		}
	}
	flood()
	assert.Equal(t, 1, f.iss.JWKSHits(), "the keys were fetched just now: no refetch")
	f.clock.Add(31 * time.Second)
	flood()
	assert.Equal(t, 2, f.iss.JWKSHits(), "one refetch for the first unknown kid, then none")

	// The issuer rotates: rsa-1 is gone, rsa-2 is new.
	f.iss.AddKey(t, "rsa-2", false)
	f.iss.Publish("rsa-2")
	_, no = f.authenticate(f.iss.Sign(t, "rsa-2", f.claims(nil)))
	require.NotNil(t, no, "refetch still rate-limited")
	f.clock.Add(31 * time.Second)
	_, no = f.authenticate(f.iss.Sign(t, "rsa-2", f.claims(nil)))
	require.Nil(t, no, "the new key is fetched")
	assert.Equal(t, 3, f.iss.JWKSHits())

	// The old key is gone after the refetch.
	_, no = f.authenticate(f.token(t, nil))
	require.NotNil(t, no, "rsa-1 no longer published")

	// Keys are refreshed when old.
	f.clock.Add(2 * time.Hour)
	_, no = f.authenticate(f.iss.Sign(t, "rsa-2", f.claims(nil)))
	require.Nil(t, no)
	assert.Equal(t, 4, f.iss.JWKSHits())
}

func TestIssuerUnreachable(t *testing.T) {
	f := setup(t)
	f.iss.SetDown(true)
	_, no := f.authenticate(f.token(t, nil))
	require.NotNil(t, no)
	assert.Equal(t, 503, no.Status, "our fault, not the token's")
	assert.False(t, no.Failed)

	f.iss.SetDown(false)
	f.clock.Add(31 * time.Second)
	_, no = f.authenticate(f.token(t, nil))
	assert.Nil(t, no, "recovers once the issuer answers")
}

func TestIssuerMetadataMustNameTheIssuer(t *testing.T) {
	f := setup(t, func(c *Config, iss *oauthtest.Issuer) { c.Issuer = iss.URL() + "/" })
	_, no := f.authenticate(f.token(t, map[string]any{"iss": f.iss.URL() + "/"}))
	require.NotNil(t, no)
	assert.Equal(t, 503, no.Status, "metadata for another issuer is not used")
}

func TestNangoDown(t *testing.T) {
	f := setup(t)
	nc, err := nango.New(nango.Config{Host: "http://127.0.0.1:1", SecretKey: sim.DefaultSecretKey, IntegrationID: "outlook", MaxRetries: -1})
	require.NoError(t, err)
	f.auth.cfg.Nango = nc
	_, no := f.authenticate(f.token(t, nil))
	require.NotNil(t, no)
	assert.Equal(t, 503, no.Status)
	assert.False(t, no.Failed)
}

func TestNangoKeyCannotList(t *testing.T) {
	var logs strings.Builder
	f := setup(t, func(c *Config, _ *oauthtest.Issuer) { c.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
	deny := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(403)
		w.Write([]byte(`{"error":{"code":"forbidden","message":"Insufficient scope. Required: environment:connections:list"}}`))
	}))
	t.Cleanup(deny.Close)
	nc, err := nango.New(nango.Config{Host: deny.URL, SecretKey: sim.DefaultSecretKey, IntegrationID: "outlook"})
	require.NoError(t, err)
	f.auth.cfg.Nango = nc
	_, no := f.authenticate(f.token(t, nil))
	require.NotNil(t, no)
	assert.Equal(t, 503, no.Status)
	assert.NotContains(t, no.Message, "environment:", "the user is not told the operator's business")
	assert.Contains(t, logs.String(), "environment:connections:list", "the operator is")
}

func TestTemplate(t *testing.T) {
	f := setup(t, func(c *Config, _ *oauthtest.Issuer) { c.Lookup, c.Template = LookupTemplate, "outlook-{oid}" })
	who, no := f.authenticate(f.token(t, map[string]any{"oid": "6f2e8b41-3c9d-4a7e-b5f0-2d8c1e9a4b37"}))
	require.Nil(t, no)
	assert.Equal(t, identity.Identity{Caller: "alice-sub", Connection: "outlook-6f2e8b41-3c9d-4a7e-b5f0-2d8c1e9a4b37"}, who)
	assert.Empty(t, f.sim.Requests(), "template mode asks Nango nothing")

	for _, oid := range []any{nil, "", "../../admin", "a/b", "${secret}", "a b", 42, strings.Repeat("x", 300)} {
		_, no := f.authenticate(f.token(t, map[string]any{"oid": oid}))
		require.NotNil(t, no, "%v", oid)
		assert.Equal(t, 403, no.Status)
	}

	f = setup(t, func(c *Config, _ *oauthtest.Issuer) { c.Lookup = LookupTemplate })
	who, no = f.authenticate(f.token(t, nil))
	require.Nil(t, no)
	assert.Equal(t, "alice-sub", who.Connection, "default {sub}")
	f = setup(t, func(c *Config, _ *oauthtest.Issuer) { c.Lookup, c.Template = LookupTemplate, "{email}" })
	who, _ = f.authenticate(f.token(t, nil))
	assert.Equal(t, "alice@contoso.com", who.Connection)
}

func TestNoTokenPassthrough(t *testing.T) {
	f := setup(t)
	f.sim.SetConnectionTags(map[string]string{"end_user_id": "alice-sub"})
	tok := f.token(t, nil)
	_, no := f.authenticate(tok)
	require.Nil(t, no)
	reqs := f.sim.Requests()
	require.NotEmpty(t, reqs)
	for _, r := range reqs {
		assert.Equal(t, "Bearer "+sim.DefaultSecretKey, r.NangoHeader.Get("Authorization"), "Nango sees only the server's key")
		for k, vs := range r.NangoHeader {
			for _, v := range vs {
				assert.NotContains(t, v, tok, k)
			}
		}
		assert.NotContains(t, string(r.Body), tok)
	}
	assert.Empty(t, f.iss.AuthSeen(), "the issuer is asked without credentials")
}

func TestMetadata(t *testing.T) {
	f := setup(t, func(c *Config, _ *oauthtest.Issuer) { c.Scope = "mcp.access offline_access" })
	mux := http.NewServeMux()
	f.auth.Mount(mux)
	assert.Equal(t, []string{"/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"}, f.auth.MetadataPaths())
	for _, p := range f.auth.MetadataPaths() {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest("GET", p, nil))
		require.Equal(t, 200, w.Code, p)
		assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
		var doc map[string]any
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &doc))
		assert.Equal(t, publicURL, doc["resource"])
		assert.Equal(t, []any{f.iss.URL()}, doc["authorization_servers"])
		assert.Equal(t, []any{"mcp.access", "offline_access"}, doc["scopes_supported"])
		assert.Equal(t, []any{"header"}, doc["bearer_methods_supported"])
	}

	// resource is --public-url exactly as given, trailing slash and all.
	f = setup(t, func(c *Config, _ *oauthtest.Issuer) { c.PublicURL = "https://mcp.example.com/" })
	assert.Equal(t, []string{"/.well-known/oauth-protected-resource"}, f.auth.MetadataPaths())
	w := httptest.NewRecorder()
	f.auth.MetadataHandler().ServeHTTP(w, httptest.NewRequest("GET", "/.well-known/oauth-protected-resource", nil))
	assert.Contains(t, w.Body.String(), `"resource":"https://mcp.example.com/"`)
	_, no := f.authenticate("")
	assert.Equal(t, `Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource"`, no.Challenge)
}

func TestConfigCheck(t *testing.T) {
	nc, err := nango.New(nango.Config{SecretKey: sim.DefaultSecretKey, IntegrationID: "outlook"})
	require.NoError(t, err)
	good := Config{PublicURL: publicURL, Issuer: "https://login.example.com/tenant/v2.0", Nango: nc}
	require.NoError(t, good.Check())
	for flag, mutate := range map[string]func(*Config){
		"--public-url":          func(c *Config) { c.PublicURL = "" },
		"--public-url ":         func(c *Config) { c.PublicURL = "http://mcp.example.com/mcp" },
		"--public-url  ":        func(c *Config) { c.PublicURL = "https://mcp.example.com/mcp?x=1" },
		"--oauth-issuer":        func(c *Config) { c.Issuer = "login.example.com" },
		"--oauth-audience":      func(c *Config) { c.Audience = "a b" },
		"--oauth-scope":         func(c *Config) { c.Scope = `mcp"x` },
		"--connection-lookup":   func(c *Config) { c.Lookup = "email" },
		"--connection-claim":    func(c *Config) { c.Claim = "a b" },
		"--connection-template": func(c *Config) { c.Lookup, c.Template = LookupTemplate, "everyone" },
		"--connection-template ": func(c *Config) {
			c.Lookup, c.Template = LookupTemplate, "user/{sub}"
		},
	} {
		c := good
		mutate(&c)
		err := c.Check()
		require.Error(t, err, flag)
		assert.Contains(t, err.Error(), strings.TrimSpace(flag))
	}
	local := good
	local.PublicURL, local.Issuer = "http://127.0.0.1:8080/mcp", "http://localhost:9000"
	assert.NoError(t, local.Check(), "http on loopback, for development")
}

func TestConcurrentLookupsOfOneUserShareOneRequest(t *testing.T) {
	f := setup(t)
	f.sim.SetConnectionTags(map[string]string{"end_user_id": "alice-sub"})
	tok := f.token(t, nil)
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			who, no := f.authenticate(tok)
			assert.Nil(t, no)
			assert.Equal(t, "sandbox", who.Connection)
		}()
	}
	wg.Wait()
	assert.LessOrEqual(t, countPath(f.sim, "/connections"), 2, "waiting requests share the lookup")
}

func TestUserCacheIsBounded(t *testing.T) {
	c := oauthtest.NewClock(time.Now())
	cache := newUserCache(3, c.Now)
	for i := range 10 {
		cache.put(fmt.Sprint("user-", i), "conn", time.Minute)
		assert.LessOrEqual(t, len(cache.entries), 3)
	}
	_, ok := cache.get("user-9")
	assert.True(t, ok, "the newest answer is kept")
	c.Add(2 * time.Minute)
	_, ok = cache.get("user-9")
	assert.False(t, ok, "expired")
}
