package nango

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// Trace notes what the Nango requests made under one context did, for the
// audit log and metrics: the status of each answer, Graph's request ids, and
// the waits before retries. It never holds a path, a query or a body. A tool
// call puts one in its context (WithTrace); the client fills it. It is safe
// for concurrent use: a call may make requests in parallel.
type Trace struct {
	mu         sync.Mutex
	statuses   map[int]int
	requestIDs []string
	retries    []Retry
}

// Retry is one wait before a request was repeated.
type Retry struct {
	Throttled bool // after a 429 (Graph's or Nango's); else after a 5xx or a network failure
	Wait      time.Duration
}

// maxTracedIDs bounds the request ids kept per trace: a call makes a few
// requests, but a paging loop must not grow an audit line without bound.
const maxTracedIDs = 20

type traceKey struct{}

// WithTrace returns ctx whose Nango requests are noted in t.
func WithTrace(ctx context.Context, t *Trace) context.Context {
	return context.WithValue(ctx, traceKey{}, t)
}

func traceOf(ctx context.Context) *Trace {
	t, _ := ctx.Value(traceKey{}).(*Trace)
	return t
}

// traceAnswer notes an answer from Nango (Graph's, through the proxy).
func traceAnswer(ctx context.Context, resp *http.Response) {
	t := traceOf(ctx)
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.statuses == nil {
		t.statuses = map[int]int{}
	}
	t.statuses[resp.StatusCode]++
	if id := resp.Header.Get("request-id"); id != "" && len(t.requestIDs) < maxTracedIDs {
		t.requestIDs = append(t.requestIDs, id)
	}
}

// traceRetry notes a wait before a request is repeated.
func traceRetry(ctx context.Context, e *Error, wait time.Duration) {
	if t := traceOf(ctx); t != nil {
		t.mu.Lock()
		defer t.mu.Unlock()
		t.retries = append(t.retries, Retry{Throttled: e.Kind == KindRateLimited, Wait: wait})
	}
}

// Statuses counts the answers by HTTP status.
func (t *Trace) Statuses() map[int]int {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[int]int, len(t.statuses))
	for k, v := range t.statuses {
		out[k] = v
	}
	return out
}

// RequestIDs are Graph's request ids of the answers, in order (at most 20).
func (t *Trace) RequestIDs() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.requestIDs...)
}

// Retries are the waits before repeated requests, in order.
func (t *Trace) Retries() []Retry {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Retry(nil), t.retries...)
}

// CachedConnections is how many connections the client holds (their scope
// caches and limits), for the metrics.
func (c *Client) CachedConnections() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.conns)
}
