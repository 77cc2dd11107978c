// Package identity carries who is calling, and on which Nango connection,
// from the transport that authenticated the request to everything that acts
// for it (tools, limits, the audit log), in the request context. It is set
// in one place, the transport, and never from tool arguments.
package identity

import "context"

// Identity is an authenticated caller and the connection it acts on.
type Identity struct {
	// Caller names who is calling, for the audit log, per-caller limits and
	// binding SSE sessions: a service token's label, an OAuth subject.
	// Never a secret.
	Caller string
	// Connection is the Nango connection (one user's mailbox) the caller
	// acts on.
	Connection string
	// Integration is that connection's Nango integration (provider config
	// key); "" means the server's configured one.
	Integration string
	// EndUser is the signed-in person (oauth mode) as Nango tags their
	// connections. With Connection "" they have none yet, and tools answer
	// with a Nango Connect link made for them.
	EndUser EndUser
}

// EndUser is a person as a Nango Connect link tags the connection it makes
// (end_user_id, end_user_email).
type EndUser struct {
	ID    string
	Email string // "" when the token names none
}

type key struct{}

// With returns ctx carrying id.
func With(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, key{}, id)
}

// From returns the identity ctx carries, if any.
func From(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(key{}).(Identity)
	return id, ok
}
