package transport

import (
	"context"

	"github.com/mark3labs/mcp-go/server"
)

// Caller is who a tool call counts against in the per-caller limit. The
// transport sets it from the request; a later authentication layer can set
// it to the authenticated identity instead, and the limit follows.
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
