package transport

import (
	"context"
	"net/http"
	"sync"

	"github.com/outlook-mcp/outlook-mcp/identity"
)

// sessions binds each SSE session to the identity that opened it. A POST
// to /message must authenticate as that same identity (caller and
// connection), so a session id that leaked is worthless without the
// credentials that opened it; and the session acts on the connection it was
// opened for, whatever a later request names.
type sessions struct {
	mu    sync.Mutex
	bound map[string]identity.Identity // by session id
}

func newSessions() *sessions {
	return &sessions{bound: map[string]identity.Identity{}}
}

// opening is the session being opened by one GET /sse: the session id
// generator fills in its id.
type opening struct{ id string }

type openingKey struct{}

// generateID is the SSE session id generator: it binds the new id to the
// identity the guard put in the request's context.
func (s *sessions) generateID(ctx context.Context, r *http.Request) (string, error) {
	sid, err := newSessionID(ctx, r)
	if err != nil {
		return "", err
	}
	if o, ok := r.Context().Value(openingKey{}).(*opening); ok {
		id, _ := identity.From(r.Context())
		s.mu.Lock()
		s.bound[sid] = id
		s.mu.Unlock()
		o.id = sid
	}
	return sid, nil
}

// open wraps GET /sse: the binding lasts as long as the stream.
func (s *sessions) open(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o := &opening{}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), openingKey{}, o)))
		if o.id != "" {
			s.mu.Lock()
			delete(s.bound, o.id)
			s.mu.Unlock()
		}
	})
}

// identityOf is the identity session sid was opened with.
func (s *sessions) identityOf(sid string) (identity.Identity, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.bound[sid]
	return id, ok
}

// post wraps POST /message: credentials of another identity than the
// session's are refused with 403. An unknown session id passes on, to be
// answered by mcp-go as one.
func (s *sessions) post(g *Guard, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bound, ok := s.identityOf(r.URL.Query().Get("sessionId"))
		if id, _ := identity.From(r.Context()); ok && id != bound {
			g.refuse(w, r, http.StatusForbidden, "this SSE session was opened with other credentials or another connection: post to /message with the same Authorization and connection headers that opened /sse")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// context is the SSE context function: a message acts as the identity its
// session was opened with.
func (s *sessions) context(ctx context.Context, r *http.Request) context.Context {
	id, ok := s.identityOf(r.URL.Query().Get("sessionId"))
	if !ok {
		return ctx
	}
	return withIdentity(ctx, id, "")
}
