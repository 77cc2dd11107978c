// Package oauthtest is an OAuth authorization server for tests: it
// publishes its metadata (OIDC discovery, or only RFC 8414) and its JWKS on
// a loopback httptest server, and signs access tokens with real RSA and EC
// keys through go-jose, the library the verifier uses. The oauth package's
// own tests and the end-to-end tests of the built binary both use it.
package oauthtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/stretchr/testify/require"
)

// Issuer is a running test authorization server. Tests rotate its keys,
// take it down and count its JWKS fetches.
type Issuer struct {
	srv    *httptest.Server
	issuer string

	mu        sync.Mutex
	keys      map[string]crypto.Signer // by kid
	published []string                 // kids in the JWKS
	rfc8414   bool                     // serve only /.well-known/oauth-authorization-server
	down      bool                     // answer 500 to everything
	jwksHits  int
	authSeen  []string          // Authorization headers received (must stay empty)
	clients   map[string]client // by client id: the token endpoint's clients
	t         testing.TB        // signs the token endpoint's tokens
}

// client is a confidential client of the client_credentials grant.
type client struct{ secret, sub string }

// New starts an issuer whose identifier is its URL plus path (e.g. "" or
// "/realms/acme"), publishing one RSA key "rsa-1" and one EC key "ec-1".
// It stops when the test ends.
func New(t testing.TB, path string) *Issuer {
	t.Helper()
	i := &Issuer{keys: map[string]crypto.Signer{}, clients: map[string]client{}, t: t}
	i.srv = httptest.NewServer(http.HandlerFunc(i.serve))
	t.Cleanup(i.srv.Close)
	i.issuer = i.srv.URL + path
	i.AddKey(t, "rsa-1", false)
	i.AddKey(t, "ec-1", true)
	return i
}

// URL is the issuer identifier: what --oauth-issuer names and iss carries.
func (i *Issuer) URL() string { return i.issuer }

// AddKey makes a new RSA (or EC P-256) key and publishes it.
func (i *Issuer) AddKey(t testing.TB, kid string, ec bool) {
	t.Helper()
	var k crypto.Signer
	var err error
	if ec {
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	} else {
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	}
	require.NoError(t, err)
	i.mu.Lock()
	defer i.mu.Unlock()
	i.keys[kid] = k
	i.published = append(i.published, kid)
}

// AddClient registers a confidential client of the token endpoint
// (client_credentials grant, client_secret_basic): its tokens name sub, the
// resource asked for (RFC 8707) as audience, and the scope asked for.
// Clients such as the MCP SDKs' client-credentials providers then sign in
// on their own, starting from the resource's 401.
func (i *Issuer) AddClient(id, secret, sub string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.clients[id] = client{secret: secret, sub: sub}
}

// Key is the private key kid, or nil.
func (i *Issuer) Key(kid string) crypto.Signer {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.keys[kid]
}

// Publish sets which keys the JWKS lists (a rotation).
func (i *Issuer) Publish(kids ...string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.published = kids
}

// OnlyRFC8414 serves the metadata only at RFC 8414's path, not at OIDC
// discovery's.
func (i *Issuer) OnlyRFC8414(only bool) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.rfc8414 = only
}

// SetDown makes the issuer answer 500 to everything (or stop doing so).
func (i *Issuer) SetDown(down bool) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.down = down
}

// JWKSHits counts the fetches of the JWKS.
func (i *Issuer) JWKSHits() int {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.jwksHits
}

// AuthSeen is every Authorization header the issuer received: a resource
// server must ask it without credentials, so tests expect none.
func (i *Issuer) AuthSeen() []string {
	i.mu.Lock()
	defer i.mu.Unlock()
	return slices.Clone(i.authSeen)
}

func (i *Issuer) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/token" {
		i.serveToken(w, r)
		return
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	if a := r.Header.Get("Authorization"); a != "" {
		i.authSeen = append(i.authSeen, a)
	}
	if i.down {
		http.Error(w, "down", http.StatusInternalServerError)
		return
	}
	base := i.srv.URL
	path := i.issuer[len(base):]
	meta := map[string]any{
		"issuer": i.issuer, "jwks_uri": base + "/keys", "response_types_supported": []string{"code"},
		"authorization_endpoint": base + "/authorize", "token_endpoint": base + "/token", // no /authorize: nobody signs in by browser here
		"grant_types_supported":                 []string{"client_credentials"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic"},
	}
	switch r.URL.Path {
	case path + "/.well-known/openid-configuration":
		if i.rfc8414 {
			http.NotFound(w, r)
			return
		}
		writeJSON(w, meta)
	case "/.well-known/oauth-authorization-server" + path:
		writeJSON(w, meta)
	case "/keys":
		i.jwksHits++
		set := jose.JSONWebKeySet{}
		for _, kid := range i.published {
			k := i.keys[kid]
			alg := string(jose.RS256)
			if _, ok := k.(*ecdsa.PrivateKey); ok {
				alg = string(jose.ES256)
			}
			set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.Public(), KeyID: kid, Algorithm: alg, Use: "sig"})
		}
		writeJSON(w, set)
	default:
		http.NotFound(w, r)
	}
}

// serveToken is the token endpoint: the client_credentials grant only.
func (i *Issuer) serveToken(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	i.mu.Lock()
	c, known := i.clients[id]
	down := i.down
	i.mu.Unlock()
	fail := func(status int, code string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"error": code})
	}
	switch {
	case down:
		http.Error(w, "down", http.StatusInternalServerError)
	case r.Method != http.MethodPost || r.ParseForm() != nil:
		fail(http.StatusBadRequest, "invalid_request")
	case !ok || !known || secret != c.secret:
		fail(http.StatusUnauthorized, "invalid_client")
	case r.PostForm.Get("grant_type") != "client_credentials":
		fail(http.StatusBadRequest, "unsupported_grant_type")
	case r.PostForm.Get("resource") == "":
		fail(http.StatusBadRequest, "invalid_target") // this issuer binds every token to a resource
	default:
		over := map[string]any{}
		if scope := r.PostForm.Get("scope"); scope != "" {
			over["scope"] = scope
		}
		tok := i.Token(i.t, c.sub, r.PostForm.Get("resource"), over)
		w.Header().Set("Cache-Control", "no-store")
		answer := map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 3600}
		if scope, ok := over["scope"]; ok {
			answer["scope"] = scope
		}
		writeJSON(w, answer)
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// Claims are a good access token's claims for sub and audience, valid for
// an hour from now, with over applied (a nil value removes a claim).
func (i *Issuer) Claims(now time.Time, sub, audience string, over map[string]any) map[string]any {
	c := map[string]any{
		"iss": i.issuer,
		"aud": []string{audience},
		"sub": sub,
		"iat": now.Unix(),
		"nbf": now.Unix(),
		"exp": now.Add(time.Hour).Unix(),
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

// Token is a good access token for sub and audience (see Claims), signed
// with "rsa-1".
func (i *Issuer) Token(t testing.TB, sub, audience string, over map[string]any) string {
	t.Helper()
	return i.Sign(t, "rsa-1", i.Claims(time.Now(), sub, audience, over))
}

// Sign makes a token signed with the key kid (its algorithm follows the key).
func (i *Issuer) Sign(t testing.TB, kid string, claims map[string]any) string {
	t.Helper()
	k := i.Key(kid)
	require.NotNil(t, k, kid)
	alg := jose.RS256
	if _, ok := k.(*ecdsa.PrivateKey); ok {
		alg = jose.ES256
	}
	return SignWith(t, alg, k, kid, claims)
}

// SignWith signs claims with any algorithm and key (HMAC takes []byte), for
// tokens the verifier must refuse.
func SignWith(t testing.TB, alg jose.SignatureAlgorithm, key any, kid string, claims map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("at+jwt")
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	require.NoError(t, err)
	tok, err := jwt.Signed(signer).Claims(claims).Serialize()
	require.NoError(t, err)
	return tok
}
