package transport

import (
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
	// 401 (no or wrong credentials) or 403 (credentials that may not do
	// this, e.g. an OAuth token without the required scope).
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
