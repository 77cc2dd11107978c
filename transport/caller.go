package transport

import (
	"context"

	"github.com/mark3labs/mcp-go/server"

	"github.com/outlook-mcp/outlook-mcp/identity"
)

// Caller is who a tool call counts against in the per-caller limit. The
// transport sets it from the authenticated identity when that names a
// connection (see withIdentity), else from the request: the client's
// address (streamable HTTP) or the session (SSE, stdio).
// It may hold a session id: never log it.
type Caller string

type callerKey struct{}

// WithCaller returns ctx carrying the caller.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerOf returns the caller set by WithCaller, else the MCP session (one
// per stdio process, one per SSE stream), else "".
func CallerOf(ctx context.Context) Caller {
	if c, ok := ctx.Value(callerKey{}).(Caller); ok && c != "" {
		return c
	}
	if s := server.ClientSessionFromContext(ctx); s != nil {
		return Caller("session:" + s.SessionID())
	}
	return ""
}

// withIdentity returns ctx carrying the authenticated identity, and as its
// caller the identity itself when it names a connection (each user has
// their own allowance, from whatever address or session they call), else
// fallback ("": the MCP session).
func withIdentity(ctx context.Context, id identity.Identity, fallback Caller) context.Context {
	ctx = identity.With(ctx, id)
	if id.Connection != "" {
		return WithCaller(ctx, Caller("user:"+id.Caller+"\x00"+id.Integration+"\x00"+id.Connection))
	}
	if fallback != "" {
		return WithCaller(ctx, fallback)
	}
	return ctx
}
