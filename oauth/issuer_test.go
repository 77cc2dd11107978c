package oauth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/stretchr/testify/require"
)

// testIssuer is a minimal OAuth authorization server: it publishes its
// metadata (OIDC discovery, or only RFC 8414) and its JWKS, and signs
// access tokens with real RSA and EC keys through go-jose, the library the
// verifier uses. Tests rotate its keys and count its JWKS fetches.
type testIssuer struct {
	srv    *httptest.Server
	issuer string

	mu        sync.Mutex
	keys      map[string]crypto.Signer // by kid
	published []string                 // kids in the JWKS
	rfc8414   bool                     // serve only /.well-known/oauth-authorization-server
	down      bool                     // answer 500 to everything
	jwksHits  int
	authSeen  []string // Authorization headers received (must stay empty)
}

// newTestIssuer starts an issuer at path (e.g. "" or "/realms/acme")
// publishing one RSA key "rsa-1" and one EC key "ec-1".
func newTestIssuer(t *testing.T, path string) *testIssuer {
	t.Helper()
	iss := &testIssuer{keys: map[string]crypto.Signer{}}
	iss.srv = httptest.NewServer(http.HandlerFunc(iss.serve))
	t.Cleanup(iss.srv.Close)
	iss.issuer = iss.srv.URL + path
	iss.addKey(t, "rsa-1", false)
	iss.addKey(t, "ec-1", true)
	return iss
}

func (i *testIssuer) addKey(t *testing.T, kid string, ec bool) {
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

// publish sets which keys the JWKS lists (a rotation).
func (i *testIssuer) publish(kids ...string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.published = kids
}

func (i *testIssuer) hits() int {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.jwksHits
}

func (i *testIssuer) serve(w http.ResponseWriter, r *http.Request) {
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
	meta := map[string]any{"issuer": i.issuer, "jwks_uri": base + "/keys", "response_types_supported": []string{"code"}}
	switch r.URL.Path {
	case path + "/.well-known/openid-configuration":
		if i.rfc8414 {
			http.NotFound(w, r)
			return
		}
		writeJSONTest(w, meta)
	case "/.well-known/oauth-authorization-server" + path:
		writeJSONTest(w, meta)
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
		writeJSONTest(w, set)
	default:
		http.NotFound(w, r)
	}
}

func writeJSONTest(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// sign makes a token signed with the key kid (its algorithm follows the key).
func (i *testIssuer) sign(t *testing.T, kid string, claims map[string]any) string {
	t.Helper()
	i.mu.Lock()
	k := i.keys[kid]
	i.mu.Unlock()
	require.NotNil(t, k, kid)
	alg := jose.RS256
	if _, ok := k.(*ecdsa.PrivateKey); ok {
		alg = jose.ES256
	}
	return signWith(t, alg, k, kid, claims)
}

// signWith signs claims with any algorithm and key (HMAC takes []byte).
func signWith(t *testing.T, alg jose.SignatureAlgorithm, key any, kid string, claims map[string]any) string {
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
