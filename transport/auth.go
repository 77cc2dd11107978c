package transport

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/outlook-mcp/outlook-mcp/identity"
)

// Authenticator turns a request's credentials into the identity it acts as:
// who calls, and on which Nango connection. The guard calls it once per
// request to /mcp, /sse and /message, after the Host and Origin checks.
//
// Contract:
//   - It may do I/O (fetch a JWKS, look a user's connection up in Nango),
//     bounded by r.Context(). The guard runs one authentication at a time
//     per client address, so the failure throttle holds under parallel
//     guesses, and never holds a lock shared by other clients across it.
//   - It never reads the body, and never returns a secret in the identity
//     or in an AuthError's message.
//   - An identity with an empty Connection means "the server's configured
//     connection" (token mode); an empty Integration means the server's
//     configured integration.
type Authenticator interface {
	Authenticate(r *http.Request) (identity.Identity, *AuthError)
}

// AuthenticatorFunc lets a function be an Authenticator.
type AuthenticatorFunc func(r *http.Request) (identity.Identity, *AuthError)

// Authenticate calls f.
func (f AuthenticatorFunc) Authenticate(r *http.Request) (identity.Identity, *AuthError) {
	return f(r)
}

// AuthError is a refused authentication, as the client will see it.
type AuthError struct {
	// Status is 400 (a malformed request, e.g. a missing connection-id),
	// 401 (no or wrong credentials), 403 (credentials that may not do
	// this, e.g. an OAuth token without the required scope) or 503 (the
	// credentials cannot be checked now: an issuer's keys or Nango did not
	// answer; sent with Retry-After).
	Status int
	// Message says what to change, in words that name the header, flag or
	// variable involved. Never a secret.
	Message string
	// Challenge is the WWW-Authenticate header value, when there is one,
	// e.g. `Bearer realm="outlook-mcp"` or
	// `Bearer resource_metadata="https://…/.well-known/oauth-protected-resource"`.
	Challenge string
	// Guess marks a failed guess at credentials (a wrong token, a bad
	// signature): it counts against the client in the failure throttle.
	// Missing credentials (how OAuth discovery starts) and malformed
	// headers do not.
	Guess bool
}

func (e *AuthError) Error() string { return e.Message }

// challenge is the WWW-Authenticate value of the static modes.
const challenge = `Bearer realm="outlook-mcp"`

// bearerToken returns the token of "Authorization: Bearer <token>" (the
// scheme is case-insensitive, RFC 6750), or "" and false without one.
func bearerToken(r *http.Request) (string, bool) {
	values := r.Header.Values("Authorization")
	if len(values) != 1 {
		return "", false
	}
	scheme, token, ok := strings.Cut(values[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return token, token != ""
}

// TokenAuth is the token mode: every request acts on the server's one
// configured connection, with the static bearer token when one is set
// (without one, on loopback only, anyone local may call). A request that
// names a connection is refused: this server would not serve it.
func TokenAuth(token string) Authenticator {
	want := []byte(token)
	return AuthenticatorFunc(func(r *http.Request) (identity.Identity, *AuthError) {
		var id identity.Identity
		if token != "" {
			got, ok := bearerToken(r)
			if !ok {
				return id, &AuthError{Status: http.StatusUnauthorized, Challenge: challenge,
					Message: "this server needs the header Authorization: Bearer <token>, with the OUTLOOK_MCP_TOKEN it was started with"}
			}
			if subtle.ConstantTimeCompare([]byte(got), want) != 1 {
				return id, &AuthError{Status: http.StatusUnauthorized, Challenge: challenge, Guess: true,
					Message: "wrong bearer token: send Authorization: Bearer <token> with the OUTLOOK_MCP_TOKEN this server was started with"}
			}
			id.Caller = "token"
		}
		for _, h := range []string{headerConnection, headerIntegration} {
			if _, named := r.Header[http.CanonicalHeaderKey(h)]; named {
				return id, &AuthError{Status: http.StatusBadRequest,
					Message: "this server runs with --auth token and serves only the connection it was started with (NANGO_CONNECTION_ID): send no " + h + " header, or start the server with --auth nango to name the connection per request"}
			}
		}
		return id, nil
	})
}

// The headers of Nango's MCP-endpoint convention.
const (
	headerConnection  = "connection-id"
	headerIntegration = "provider-config-key"
)

// Callers of the nango mode, as the audit log and SSE binding see them.
const (
	callerSecretKey   = "nango-secret-key"
	callerTokenPrefix = "token:"
)

// NangoAuthConfig configures the nango mode.
type NangoAuthConfig struct {
	// SecretKey is the server's Nango secret key, accepted as a bearer
	// token (Nango's own convention).
	SecretKey string
	// Tokens are the service tokens also accepted (OUTLOOK_MCP_TOKENS_FILE).
	Tokens []ServiceToken
	// Integration is the provider-config-key of requests without one.
	Integration string
}

// NangoAuth is the nango mode, compatible with Nango's MCP endpoint:
// "Authorization: Bearer <key>" (the Nango secret key or a service token),
// "connection-id: <id>" naming the connection the request acts on, and an
// optional "provider-config-key: <integration>".
func NangoAuth(cfg NangoAuthConfig) (Authenticator, error) {
	if cfg.SecretKey == "" && len(cfg.Tokens) == 0 {
		return nil, errors.New("--auth nango needs NANGO_SECRET_KEY or service tokens in OUTLOOK_MCP_TOKENS_FILE")
	}
	if cfg.Integration == "" {
		return nil, errors.New("--auth nango needs the default integration (NANGO_INTEGRATION_ID)")
	}
	// Keys are looked up by their SHA-256: the time a lookup takes says
	// nothing about a key's characters.
	callers := map[[sha256.Size]byte]string{}
	if cfg.SecretKey != "" {
		callers[sha256.Sum256([]byte(cfg.SecretKey))] = callerSecretKey
	}
	for _, t := range cfg.Tokens {
		callers[sha256.Sum256([]byte(t.Token))] = callerTokenPrefix + t.Label
	}
	return AuthenticatorFunc(func(r *http.Request) (identity.Identity, *AuthError) {
		var id identity.Identity
		key, ok := bearerToken(r)
		if !ok {
			return id, &AuthError{Status: http.StatusUnauthorized, Challenge: challenge,
				Message: "this server needs the headers Authorization: Bearer <key> (the Nango secret key, or a service token of OUTLOOK_MCP_TOKENS_FILE) and connection-id: <the user's Nango connection id>"}
		}
		if id.Caller, ok = callers[sha256.Sum256([]byte(key))]; !ok {
			return id, &AuthError{Status: http.StatusUnauthorized, Challenge: challenge, Guess: true,
				Message: "wrong bearer key: send Authorization: Bearer <key> with the server's Nango secret key or a service token of its OUTLOOK_MCP_TOKENS_FILE"}
		}
		var err *AuthError
		if id.Connection, err = nameHeader(r, headerConnection, true); err != nil {
			return identity.Identity{}, err
		}
		if id.Integration, err = nameHeader(r, headerIntegration, false); err != nil {
			return identity.Identity{}, err
		}
		if id.Integration == "" {
			id.Integration = cfg.Integration
		}
		return id, nil
	}), nil
}

// maxNameLength bounds a connection id or integration id.
const maxNameLength = 255

// nameHeader reads a header that names a Nango connection or integration.
// The value goes into Nango's headers and paths, so it is held to
// characters that mean the same everywhere: letters, digits and - _ . @ : + = ~ |,
// never a lone "." or "..".
func nameHeader(r *http.Request, name string, required bool) (string, *AuthError) {
	values := r.Header.Values(name)
	bad := func(why string) (string, *AuthError) {
		return "", &AuthError{Status: http.StatusBadRequest, Message: "header " + name + ": " + why}
	}
	switch {
	case len(values) == 0 && !required:
		return "", nil
	case len(values) == 0:
		return bad("missing: send " + name + ": <the user's Nango connection id> with every request (Nango's MCP convention)")
	case len(values) > 1:
		return bad("sent more than once: send it once")
	}
	v := values[0]
	switch {
	case v == "":
		return bad("empty: send the id")
	case len(v) > maxNameLength:
		return bad(fmt.Sprintf("longer than %d characters", maxNameLength))
	case v == "." || v == "..":
		return bad("not an id")
	}
	for _, c := range v {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_.@:+=~|", c)) {
			return bad(fmt.Sprintf("%q is not allowed: ids hold letters, digits and - _ . @ : + = ~ |", c))
		}
	}
	return v, nil
}
