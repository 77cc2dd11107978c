// Package oauth makes this server an OAuth 2.1 resource server, as the MCP
// authorization specification describes: it checks access tokens (JWTs
// signed by the configured issuer, for this resource, with the required
// scope), answers refusals with the challenges that let a client sign its
// user in, serves the RFC 9728 metadata that names the issuer, and finds
// the signed-in user's Nango connection.
//
// The client's token never goes further than this package: Nango is called
// with the server's secret key only, and the issuer is asked for its public
// metadata and keys, without credentials.
package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/mark3labs/mcp-go/server"

	"github.com/outlook-mcp/outlook-mcp/identity"
	"github.com/outlook-mcp/outlook-mcp/nango"
)

// Authenticator checks a request's access token and says who is calling
// and on which connection. It is safe for concurrent use.
type Authenticator struct {
	cfg      Config
	scopes   []string // required
	keys     *keySet
	users    *userCache
	metadata string // the resource_metadata URL of the challenges
}

// New checks cfg and builds the authenticator. It makes no network call:
// the issuer's metadata and keys are fetched on first use.
func New(cfg Config) (*Authenticator, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if cfg.Lookup == LookupTags && cfg.Nango == nil {
		return nil, errors.New("oauth: the tags lookup needs the Nango client")
	}
	u, _ := url.Parse(cfg.PublicURL) // checked
	return &Authenticator{
		cfg:      cfg,
		scopes:   scopeList(cfg.Scope),
		keys:     newKeySet(cfg.Issuer, cfg.HTTPClient, cfg.KeyRefetchInterval, cfg.KeyMaxAge, cfg.Now),
		users:    newUserCache(cfg.MaxCachedUsers, cfg.Now),
		metadata: u.Scheme + "://" + u.Host + server.ProtectedResourceMetadataPath(cfg.PublicURL),
	}, nil
}

// Refusal is a request the authenticator turns away, as the transport
// writes it.
type Refusal struct {
	Status  int    // 401, 403 or 503
	Message string // the body: plain text, for a person
	// Challenge is the WWW-Authenticate value ("" for none).
	Challenge string
	// Failed tells whether the request counts as a failed credential
	// guess for throttling: a wrong or forged token does; a missing one
	// (the start of every OAuth discovery), a valid token lacking a scope,
	// or a fault on our side does not.
	Failed bool
}

// Write answers the request with the refusal.
func (r *Refusal) Write(w http.ResponseWriter) {
	if r.Challenge != "" {
		w.Header().Set("WWW-Authenticate", r.Challenge)
	}
	if r.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "30")
	}
	http.Error(w, r.Message, r.Status)
}

// Authenticate checks the request's bearer token and returns the caller:
// Caller is the token's subject, Connection the user's Nango connection
// ("" when they have none yet: EndUser then says who they are, for the
// Connect link tools offer).
func (a *Authenticator) Authenticate(r *http.Request) (identity.Identity, *Refusal) {
	ctx := r.Context()
	raw, ok := bearer(r.Header.Get("Authorization"))
	if !ok {
		if r.Header.Get("Authorization") == "" {
			return identity.Identity{}, &Refusal{Status: http.StatusUnauthorized, Message: "Unauthorized: sign in (OAuth) and send the access token as Authorization: Bearer <token>.", Challenge: a.challenge("", "")}
		}
		return identity.Identity{}, a.invalid("the Authorization header is not a bearer token")
	}
	claims, err := a.verify(ctx, raw)
	if err != nil {
		var noKeys *errNoKeys
		if errors.As(err, &noKeys) {
			a.cfg.Logger.WarnContext(ctx, "oauth: cannot check tokens", "issuer", a.cfg.Issuer, "err", err)
			return identity.Identity{}, &Refusal{Status: http.StatusServiceUnavailable, Message: "The authorization server's keys cannot be fetched right now, so no token can be checked. Try again shortly."}
		}
		a.cfg.Logger.DebugContext(ctx, "oauth: token refused", "err", err)
		if errors.Is(err, jwt.ErrExpired) {
			return identity.Identity{}, a.invalid("the access token expired")
		}
		return identity.Identity{}, a.invalid("the access token is not valid for this server")
	}
	if missing := a.missingScopes(claims); len(missing) > 0 {
		return identity.Identity{}, &Refusal{
			Status:    http.StatusForbidden,
			Message:   "Forbidden: the access token lacks the scope " + strings.Join(missing, " ") + ". Sign in again granting it.",
			Challenge: a.challenge("insufficient_scope", "the access token lacks a required scope"),
		}
	}
	sub, _ := claims["sub"].(string)
	who := identity.Identity{Caller: sub}
	if a.cfg.Lookup == LookupTemplate {
		id, err := a.fromTemplate(claims)
		if err != nil {
			return identity.Identity{}, &Refusal{Status: http.StatusForbidden, Message: "Forbidden: " + err.Error() + "."}
		}
		who.Connection = id
		return who, nil
	}
	user, err := a.endUser(claims)
	if err != nil {
		return identity.Identity{}, &Refusal{Status: http.StatusForbidden, Message: "Forbidden: " + err.Error() + "."}
	}
	conn, err := a.findConnection(ctx, user.ID)
	if err != nil {
		hint := ""
		if e, ok := nango.AsError(err); ok && e.Kind == nango.KindBadSecretKey {
			hint = " (the server's Nango secret key needs the environment:connections:list permission)"
		}
		a.cfg.Logger.WarnContext(ctx, "oauth: cannot look up the user's connection in Nango"+hint, "err", err)
		return identity.Identity{}, &Refusal{Status: http.StatusServiceUnavailable, Message: "Your Outlook connection cannot be looked up right now. Try again shortly; if it persists, tell the server's operator."}
	}
	who.Connection, who.EndUser = conn, user
	return who, nil
}

// invalid is the refusal of a token that was given but is not good.
func (a *Authenticator) invalid(why string) *Refusal {
	return &Refusal{Status: http.StatusUnauthorized, Message: "Unauthorized: " + why + ". Sign in again.", Challenge: a.challenge("invalid_token", why), Failed: true}
}

// challenge is the WWW-Authenticate value: where the metadata is (RFC
// 9728), the scope to ask for, and the error (RFC 6750) when there is one.
func (a *Authenticator) challenge(code, description string) string {
	parts := []string{`Bearer resource_metadata="` + a.metadata + `"`}
	if len(a.scopes) > 0 {
		parts = append(parts, `scope="`+strings.Join(a.scopes, " ")+`"`)
	}
	if code != "" {
		parts = append(parts, `error="`+code+`"`, `error_description="`+description+`"`)
	}
	return strings.Join(parts, ", ")
}

// bearer returns the token of an "Authorization: Bearer <token>" header.
func bearer(h string) (string, bool) {
	scheme, token, ok := strings.Cut(h, " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" || strings.ContainsAny(token, " \t") {
		return "", false
	}
	return token, true
}

// algorithms are the signatures accepted: public-key ones only. No "none",
// and no HMAC, whose key is a shared secret: with a public key as that
// secret anyone could sign.
var algorithms = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512,
	jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512,
	jose.EdDSA,
}

// clockSkew is how far the issuer's clock and ours may disagree.
const clockSkew = 60 * time.Second

// maxTokenBytes bounds what is parsed: real access tokens are a few KB.
const maxTokenBytes = 16 << 10

// verify checks the token's signature against the issuer's keys, then its
// issuer, audience, expiry and not-before, and returns its claims.
func (a *Authenticator) verify(ctx context.Context, raw string) (map[string]any, error) {
	if len(raw) > maxTokenBytes {
		return nil, errors.New("token too large")
	}
	tok, err := jwt.ParseSigned(raw, algorithms)
	if err != nil {
		return nil, err
	}
	if len(tok.Headers) != 1 {
		return nil, errors.New("not exactly one signature")
	}
	h := tok.Headers[0]
	key, err := a.keys.key(ctx, h.KeyID)
	if err != nil {
		return nil, err
	}
	if key.Algorithm != "" && key.Algorithm != h.Algorithm {
		return nil, fmt.Errorf("key %q is for %s, not %s", key.KeyID, key.Algorithm, h.Algorithm)
	}
	var std jwt.Claims
	var all map[string]any
	if err := tok.Claims(key.Key, &std, &all); err != nil {
		return nil, err
	}
	if std.Expiry == nil {
		return nil, errors.New("no exp")
	}
	if std.Subject == "" {
		return nil, errors.New("no sub")
	}
	err = std.ValidateWithLeeway(jwt.Expected{
		Issuer:      a.cfg.Issuer,
		AnyAudience: jwt.Audience{a.cfg.Audience},
		Time:        a.cfg.Now(),
	}, clockSkew)
	if err != nil {
		return nil, err
	}
	return all, nil
}

// missingScopes are the required scopes the token does not carry, read
// from "scope" (RFC 9068: space separated) or "scp" (Entra ID, Okta: a
// string or a list). A required scope written as a URI also matches its
// last segment: Entra ID grants api://<app>/mcp.access as scp mcp.access.
func (a *Authenticator) missingScopes(claims map[string]any) []string {
	var granted []string
	for _, name := range []string{"scope", "scp"} {
		switch v := claims[name].(type) {
		case string:
			granted = append(granted, strings.Fields(v)...)
		case []any:
			for _, s := range v {
				if s, ok := s.(string); ok {
					granted = append(granted, s)
				}
			}
		}
	}
	var missing []string
	for _, need := range a.scopes {
		short := need
		if i := strings.LastIndex(need, "/"); i >= 0 && strings.Contains(need, "://") {
			short = need[i+1:]
		}
		if !slices.Contains(granted, need) && !slices.Contains(granted, short) {
			missing = append(missing, need)
		}
	}
	return missing
}
