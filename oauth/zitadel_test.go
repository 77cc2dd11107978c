package oauth_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/outlook-mcp/outlook-mcp/identity"
	"github.com/outlook-mcp/outlook-mcp/nango"
	"github.com/outlook-mcp/outlook-mcp/oauth"
	"github.com/outlook-mcp/outlook-mcp/oauth/oauthtest"
	"github.com/outlook-mcp/outlook-mcp/sim"
)

// These tests run the resource server against a real OpenID provider:
// zitadel/oidc's op package, serving discovery, its JWKS and the token
// endpoint on an httptest server, and issuing JWT access tokens through
// the client credentials grant. Everything the authenticator checks is
// what that library wrote, not what a test wrote for it.

// opStorage is the provider's storage, reduced to what the client
// credentials grant with JWT access tokens uses. The example storage of
// zitadel/oidc issues opaque tokens for its service users, whose audience
// is their own id, so it cannot show the audience binding. Methods the
// grant never calls are left to the embedded nil op.Storage: a call would
// panic, so a provider that starts needing one fails the tests loudly.
type opStorage struct {
	op.Storage

	mu        sync.Mutex
	clients   map[string]*opClient
	signing   *opKey
	published []*opKey
	lifetime  time.Duration // of access tokens
}

func newOPStorage(t *testing.T) *opStorage {
	s := &opStorage{clients: map[string]*opClient{}, lifetime: time.Hour}
	s.rotate(t, true)
	return s
}

// addClient registers a client allowed the client credentials grant,
// whose tokens name audience.
func (s *opStorage) addClient(id, secret string, audience ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clients[id] = &opClient{id: id, secret: secret, audience: audience}
}

// rotate makes a new key the signing key and publishes it; the previous
// keys stay published unless retire is set.
func (s *opStorage) rotate(t *testing.T, retire bool) *opKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	key := &opKey{id: rand.Text()[:8], key: k}
	s.mu.Lock()
	defer s.mu.Unlock()
	if retire {
		s.published = nil
	}
	s.signing, s.published = key, append(s.published, key)
	return key
}

// retire stops publishing every key but the signing one.
func (s *opStorage) retire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.published = []*opKey{s.signing}
}

func (s *opStorage) setLifetime(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lifetime = d
}

func (s *opStorage) Health(context.Context) error { return nil }

func (s *opStorage) ClientCredentials(_ context.Context, id, secret string) (op.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[id]
	if !ok || c.secret != secret {
		return nil, oidc.ErrInvalidClient()
	}
	return c, nil
}

func (s *opStorage) ClientCredentialsTokenRequest(_ context.Context, id string, scopes []string) (op.TokenRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[id]
	if !ok {
		return nil, oidc.ErrInvalidClient()
	}
	// A service account: the token's subject is the client itself.
	return &oidc.JWTTokenRequest{Subject: c.id, Audience: c.audience, Scopes: scopes}, nil
}

func (s *opStorage) CreateAccessToken(context.Context, op.TokenRequest) (string, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return rand.Text(), time.Now().Add(s.lifetime), nil
}

// GetPrivateClaimsFromRequest puts the granted scopes in the token's
// "scope" claim (RFC 9068), which op leaves to the storage.
func (s *opStorage) GetPrivateClaimsFromRequest(_ context.Context, _ op.TokenRequest, scopes []string) (map[string]any, error) {
	if len(scopes) == 0 {
		return nil, nil
	}
	return map[string]any{"scope": strings.Join(scopes, " ")}, nil
}

func (s *opStorage) SigningKey(context.Context) (op.SigningKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.signing, nil
}

func (s *opStorage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *opStorage) KeySet(context.Context) ([]op.Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]op.Key, len(s.published))
	for i, k := range s.published {
		keys[i] = opPublicKey{k}
	}
	return keys, nil
}

// opKey is a signing key (op.SigningKey); opPublicKey is its published
// half (op.Key).
type opKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k *opKey) ID() string                                  { return k.id }
func (k *opKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *opKey) Key() any                                    { return k.key }

type opPublicKey struct{ *opKey }

func (k opPublicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k opPublicKey) Use() string                        { return "sig" }
func (k opPublicKey) Key() any                           { return &k.key.PublicKey }

// opClient is a confidential client of the client credentials grant that
// gets JWT access tokens. As in opStorage, what the grant does not use is
// left to the embedded nil op.Client.
type opClient struct {
	op.Client
	id, secret string
	audience   []string
}

func (c *opClient) GetID() string                       { return c.id }
func (c *opClient) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeJWT }
func (c *opClient) ClockSkew() time.Duration            { return 0 }
func (c *opClient) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeClientCredentials}
}
func (c *opClient) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(scopes []string) []string { return scopes }
}

// opProvider is a running provider.
type opProvider struct {
	issuer  string
	storage *opStorage
}

// startProvider runs an op.Provider on plain HTTP on loopback, which
// --oauth-issuer accepts for development and op with WithAllowInsecure.
func startProvider(t *testing.T) *opProvider {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	st := newOPStorage(t)
	p, err := op.NewProvider(&op.Config{CryptoKey: sha256.Sum256([]byte("opaque tokens are not used"))}, st, op.StaticIssuer(issuer), op.WithAllowInsecure())
	require.NoError(t, err)
	srv.Config.Handler = p
	srv.Start()
	t.Cleanup(srv.Close)
	return &opProvider{issuer: issuer, storage: st}
}

// token asks the provider's token endpoint, found through its discovery
// document, for an access token with the client credentials grant.
func (p *opProvider) token(t *testing.T, clientID, secret, scope string) string {
	t.Helper()
	var meta struct {
		TokenEndpoint string `json:"token_endpoint"`
	}
	opGetJSON(t, p.issuer+"/.well-known/openid-configuration", &meta)
	req, err := http.NewRequest(http.MethodPost, meta.TokenEndpoint, strings.NewReader(url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, secret)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		Error       string `json:"error"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	require.Equal(t, http.StatusOK, resp.StatusCode, "token endpoint: %s", out.Error)
	require.Equal(t, "Bearer", out.TokenType)
	require.Equal(t, 2, strings.Count(out.AccessToken, "."), "a JWT, not an opaque token")
	return out.AccessToken
}

func opGetJSON(t *testing.T, u string, out any) {
	t.Helper()
	resp, err := http.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, u)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(out))
}

const opPublicURL = "https://mcp.example.com/mcp"

// opSetup starts a provider with the client "agent" (tokens for
// opPublicURL) and "other" (tokens for another API), and an
// authenticator trusting the provider.
func opSetup(t *testing.T, mutate ...func(*oauth.Config)) (*opProvider, *oauth.Authenticator, *oauthtest.Clock) {
	t.Helper()
	p := startProvider(t)
	p.storage.addClient("agent", "agent-secret", opPublicURL)
	p.storage.addClient("other", "other-secret", "https://api.other.example.com")
	clk := oauthtest.NewClock(time.Now())
	return p, opAuthenticator(t, p, clk, mutate...), clk
}

// opAuthenticator trusts p, in template mode unless mutate says otherwise.
func opAuthenticator(t *testing.T, p *opProvider, clk *oauthtest.Clock, mutate ...func(*oauth.Config)) *oauth.Authenticator {
	t.Helper()
	cfg := oauth.Config{PublicURL: opPublicURL, Issuer: p.issuer, Lookup: oauth.LookupTemplate, Now: clk.Now}
	for _, m := range mutate {
		m(&cfg)
	}
	a, err := oauth.New(cfg)
	require.NoError(t, err)
	return a
}

func opAuthenticate(a *oauth.Authenticator, token string) (identity.Identity, *oauth.Refusal) {
	r := httptest.NewRequest(http.MethodPost, "/mcp", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	return a.Authenticate(r)
}

func TestProviderTokenIsAcceptedAsItsSubject(t *testing.T) {
	p, a, _ := opSetup(t, func(c *oauth.Config) { c.Template = "outlook-{sub}" })
	who, no := opAuthenticate(a, p.token(t, "agent", "agent-secret", "mcp.access"))
	require.Nil(t, no, "%+v", no)
	assert.Equal(t, identity.Identity{Caller: "agent", Connection: "outlook-agent"}, who)
}

func TestProviderTokenFindsTheTaggedConnection(t *testing.T) {
	fixture, err := os.ReadFile("../testdata/mailbox.json")
	require.NoError(t, err)
	s, err := sim.New(fixture, sim.Options{})
	require.NoError(t, err)
	s.SetConnectionTags(map[string]string{"end_user_id": "agent"})
	nc, err := nango.New(nango.Config{Host: "http://nango.test", SecretKey: sim.DefaultSecretKey, IntegrationID: "outlook", HTTPClient: s.Client()})
	require.NoError(t, err)
	p, a, _ := opSetup(t, func(c *oauth.Config) { c.Lookup, c.Nango = oauth.LookupTags, nc })

	who, no := opAuthenticate(a, p.token(t, "agent", "agent-secret", ""))
	require.Nil(t, no, "%+v", no)
	assert.Equal(t, identity.Identity{Caller: "agent", Connection: "sandbox", EndUser: identity.EndUser{ID: "agent"}}, who)
}

func TestProviderTokenForAnotherResourceIsRefused(t *testing.T) {
	p, a, clk := opSetup(t)
	other := p.token(t, "other", "other-secret", "mcp.access")
	_, no := opAuthenticate(a, other)
	require.NotNil(t, no, "aud is the other API")
	assert.Equal(t, http.StatusUnauthorized, no.Status)
	assert.Contains(t, no.Challenge, `error="invalid_token"`)
	assert.True(t, no.Failed)
	otherAPI := opAuthenticator(t, p, clk, func(c *oauth.Config) { c.Audience = "https://api.other.example.com" })
	_, no = opAuthenticate(otherAPI, other)
	assert.Nil(t, no, "the token is good for the API it was issued for: %+v", no)

	// A token for this server, checked by a server that expects another
	// audience (--oauth-audience, as with Entra ID's client id).
	_, no = opAuthenticate(otherAPI, p.token(t, "agent", "agent-secret", "mcp.access"))
	require.NotNil(t, no)
	assert.Equal(t, http.StatusUnauthorized, no.Status)
}

func TestProviderTokenScope(t *testing.T) {
	p, a, _ := opSetup(t, func(c *oauth.Config) { c.Scope = "mcp.access" })
	_, no := opAuthenticate(a, p.token(t, "agent", "agent-secret", "openid mcp.access"))
	assert.Nil(t, no, "%+v", no)

	_, no = opAuthenticate(a, p.token(t, "agent", "agent-secret", "openid mail.read"))
	require.NotNil(t, no)
	assert.Equal(t, http.StatusForbidden, no.Status)
	assert.Contains(t, no.Challenge, `scope="mcp.access", error="insufficient_scope"`)
	assert.False(t, no.Failed)
}

func TestProviderKeyRotation(t *testing.T) {
	// Tokens outlive a key refresh here, so the retired key's are refused
	// for being unpublished, not for having expired.
	p, a, clk := opSetup(t)
	p.storage.setLifetime(3 * time.Hour)
	first := p.token(t, "agent", "agent-secret", "")
	_, no := opAuthenticate(a, first)
	require.Nil(t, no, "%+v", no)

	// The provider rotates: a new signing key, the old one still published.
	p.storage.rotate(t, false)
	second := p.token(t, "agent", "agent-secret", "")
	require.NotEqual(t, opKeyID(t, first), opKeyID(t, second))
	_, no = opAuthenticate(a, second)
	require.NotNil(t, no, "the keys were fetched just now: no refetch for an unknown key yet")
	clk.Add(31 * time.Second)
	_, no = opAuthenticate(a, second)
	require.Nil(t, no, "the new key is fetched: %+v", no)
	_, no = opAuthenticate(a, first)
	require.Nil(t, no, "the old key is still published")

	// The provider retires the old key; once the keys are refreshed its
	// tokens are refused.
	p.storage.retire()
	clk.Add(time.Hour)
	_, no = opAuthenticate(a, first)
	require.NotNil(t, no, "the old key is no longer published")
	assert.Equal(t, http.StatusUnauthorized, no.Status)
	_, no = opAuthenticate(a, second)
	require.Nil(t, no, "%+v", no)
	_, no = opAuthenticate(a, p.token(t, "agent", "agent-secret", ""))
	require.Nil(t, no, "%+v", no)
}

// opKeyID is the key id in a JWT's header.
func opKeyID(t *testing.T, token string) string {
	t.Helper()
	tok, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256})
	require.NoError(t, err)
	require.Len(t, tok.Signatures, 1)
	return tok.Signatures[0].Header.KeyID
}

func TestProviderTokenExpires(t *testing.T) {
	p, a, clk := opSetup(t)
	p.storage.setLifetime(5 * time.Minute)
	tok := p.token(t, "agent", "agent-secret", "")
	_, no := opAuthenticate(a, tok)
	require.Nil(t, no, "%+v", no)

	clk.Add(5*time.Minute + 50*time.Second)
	_, no = opAuthenticate(a, tok)
	require.Nil(t, no, "within the clock skew: %+v", no)

	clk.Add(15 * time.Second)
	_, no = opAuthenticate(a, tok)
	require.NotNil(t, no)
	assert.Equal(t, http.StatusUnauthorized, no.Status)
	assert.Contains(t, no.Message, "expired")
}
