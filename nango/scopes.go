package nango

import (
	"slices"
	"strings"
)

// Scopes is the set of delegated Microsoft Graph permissions a connection
// was granted. The zero value means "unknown": the secret key cannot read
// credentials, so no pre-check is possible and Graph's 403s are mapped instead.
type Scopes struct {
	known bool
	names []string // as Microsoft spelled them, without the resource prefix, sorted
}

// oidcScopes are sign-in scopes, not Graph permissions.
var oidcScopes = map[string]bool{"openid": true, "profile": true, "email": true}

// ParseScopes normalises Microsoft's space-separated scope string: it strips
// the https://graph.microsoft.com/ prefix and drops OIDC scopes and duplicates.
func ParseScopes(raw string) Scopes {
	s := Scopes{known: true}
	for _, f := range strings.Fields(raw) {
		f = trimResource(f)
		if f == "" || oidcScopes[strings.ToLower(f)] || s.Has(f) {
			continue
		}
		s.names = append(s.names, f)
	}
	slices.SortFunc(s.names, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	return s
}

func trimResource(scope string) string {
	const prefix = "https://graph.microsoft.com/"
	if len(scope) >= len(prefix) && strings.EqualFold(scope[:len(prefix)], prefix) {
		return scope[len(prefix):]
	}
	return scope
}

// Known reports whether the granted scopes could be read.
func (s Scopes) Known() bool { return s.known }

// Names lists the granted scopes, sorted.
func (s Scopes) Names() []string { return slices.Clone(s.names) }

// Has reports whether scope was granted (case-insensitive).
func (s Scopes) Has(scope string) bool {
	scope = trimResource(scope)
	return slices.ContainsFunc(s.names, func(n string) bool { return strings.EqualFold(n, scope) })
}

// HasAny reports whether any of scopes was granted. With unknown scopes it
// answers true: the caller cannot tell, so it lets Graph decide.
func (s Scopes) HasAny(scopes ...string) bool {
	if !s.known {
		return true
	}
	return slices.ContainsFunc(scopes, s.Has)
}

func (s Scopes) String() string {
	if !s.known {
		return "unknown"
	}
	if len(s.names) == 0 {
		return "none"
	}
	return strings.Join(s.names, ", ")
}
