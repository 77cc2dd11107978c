package nango

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
)

// Connection is one user's Nango connection: Graph calls through the proxy
// under a per-mailbox concurrency limit, and the scopes it was granted.
type Connection struct {
	client *Client
	id     string
	slots  chan struct{} // one token per Graph call in flight (localLimiter)

	integration string // the Nango integration (Provider-Config-Key)

	fetching chan struct{} // one scope fetch at a time

	mu          sync.Mutex // guards the fields below; never held across I/O
	scopes      Scopes
	scopesAt    time.Time                // when scopes were fetched
	refreshedAt time.Time                // when a 403 last forced a refetch
	reconnect   map[string]reconnectLink // by scope list
}

type reconnectLink struct {
	url     string
	expires time.Time
}

// ID is the Nango connection id.
func (c *Connection) ID() string { return c.id }

// IntegrationID is the Nango integration the connection belongs to.
func (c *Connection) IntegrationID() string { return c.integration }

// Request is one Microsoft Graph call.
type Request struct {
	Method string
	// Path is a Graph v1.0 path such as "/me/messages" (escape arguments
	// with url.PathEscape), or an absolute @odata.nextLink, followed verbatim.
	Path  string
	Query url.Values
	// Header holds Graph headers (Prefer, ConsistencyLevel); they are sent
	// as Nango-Proxy-<Name>, the only headers Nango forwards.
	Header http.Header
	Body   any // encoded as JSON
	// Idempotent allows retrying 5xx and network failures. GETs always are.
	// Leave it false for sends: a send is never made twice.
	Idempotent bool
}

// Do makes the Graph call through the Nango proxy and decodes a JSON answer
// into out (which may be nil; a *[]byte gets the raw body). Throttling (429) is retried after Retry-After
// and an exponential backoff with jitter, within the context's deadline;
// 5xx and network failures are retried only for idempotent requests.
func (c *Connection) Do(ctx context.Context, r Request, out any) error {
	path, err := proxyPath(r.Path, r.Query)
	if err != nil {
		return err
	}
	var body []byte
	if r.Body != nil {
		if body, err = json.Marshal(r.Body); err != nil {
			return err
		}
	}
	header := http.Header{
		"Provider-Config-Key": {c.integration},
		"Connection-Id":       {c.id},
	}
	for k, v := range r.Header {
		header["Nango-Proxy-"+http.CanonicalHeaderKey(k)] = v
	}
	idempotent := r.Idempotent || r.Method == http.MethodGet || r.Method == ""
	cfg := c.client.cfg
	lim := c.limiter()
	for attempt := 0; ; attempt++ {
		if err := c.awaitThrottle(ctx, lim); err != nil {
			return err
		}
		start := time.Now()
		data, err := c.attempt(ctx, lim, r.Method, path, header, body, idempotent)
		cfg.Logger.DebugContext(ctx, "graph call", "method", r.Method, "path", logPath(path), "attempt", attempt+1, "ms", time.Since(start).Milliseconds(), "err", err)
		if err == nil {
			return decode(data, out)
		}
		e, ok := AsError(err)
		if !ok { // context cancelled
			return err
		}
		if e.Kind == KindRateLimited && e.Source == FromGraph && e.RetryAfter > 0 {
			lim.Throttle(ctx, e.RetryAfter) // the mailbox's other calls wait too
		}
		retryable := e.Kind == KindRateLimited || (e.Kind == KindUnavailable && (idempotent || e.unsent))
		if !retryable && e.Kind == KindUnavailable {
			// Graph may have acted before failing: never repeat it.
			e.Kind = KindAmbiguous
			return e
		}
		if !retryable || attempt >= cfg.MaxRetries {
			return e
		}
		// Graph's Retry-After is sometimes missing or always "1": wait for
		// it, but at least an exponential backoff. The jitter spreads the
		// retries of calls that were throttled together.
		ceiling := cfg.Backoff << attempt
		wait := max(e.RetryAfter, ceiling/2+rand.N(ceiling/2+1))
		if wait > cfg.MaxWait {
			return e
		}
		if outlasts(ctx, wait) {
			return e
		}
		traceRetry(ctx, e, wait)
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// limiter is the mailbox's Limiter: the connection's own slots, also
// shared with other processes when Config.Limits is set.
func (c *Connection) limiter() Limiter {
	local := localLimiter(c.slots)
	if c.client.cfg.Limits == nil {
		return local
	}
	return c.client.cfg.Limits.Mailbox(c.IntegrationID(), c.id, cap(c.slots), local)
}

// awaitThrottle waits out a pause of the mailbox that another call's 429
// asked for. A pause longer than MaxWait or the deadline allows is reported
// as that throttling, without calling Graph.
func (c *Connection) awaitThrottle(ctx context.Context, lim Limiter) error {
	d := lim.Throttled(ctx)
	if d <= 0 {
		return nil
	}
	if d > c.client.cfg.MaxWait || outlasts(ctx, d) {
		return &Error{Source: FromGraph, Kind: KindRateLimited, Status: http.StatusTooManyRequests, Message: "Graph asked to wait before calling this mailbox again", RetryAfter: d}
	}
	return sleep(ctx, d)
}

// outlasts reports whether d is longer than ctx has left.
func outlasts(ctx context.Context, d time.Duration) bool {
	deadline, ok := ctx.Deadline()
	return ok && time.Until(deadline) < d
}

// attempt makes one proxy call under a permit of the mailbox's limiter.
//
// A change, once on its way, runs to its answer: cancelling it (the
// client's cancel, a shutdown) would leave nobody knowing whether it took
// effect. Until it leaves, a cancel still stops it. Its deadline holds
// either way; a change that meets it is reported as ambiguous, never as
// something to simply try again.
func (c *Connection) attempt(ctx context.Context, lim Limiter, method, path string, header http.Header, body []byte, idempotent bool) ([]byte, error) {
	release, err := lim.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	if idempotent {
		_, data, err := c.client.send(ctx, method, path, header, body)
		return data, err
	}
	sendCtx, cancel := context.WithoutCancel(ctx), context.CancelFunc(func() {})
	if deadline, ok := ctx.Deadline(); ok {
		sendCtx, cancel = context.WithDeadline(sendCtx, deadline)
	}
	defer cancel()
	_, data, err := c.client.send(sendCtx, method, path, header, body)
	if err != nil && sendCtx.Err() != nil {
		return nil, &Error{Source: FromNetwork, Kind: KindAmbiguous, Message: "no answer before the deadline", Err: sendCtx.Err()}
	}
	return data, err
}

// proxyPath turns a Graph path or absolute nextLink into Nango's proxy path.
func proxyPath(path string, query url.Values) (string, error) {
	if rest, ok := strings.CutPrefix(path, graphBase); ok {
		path = rest
	} else if strings.Contains(path, "://") {
		return "", &Error{Source: FromGraph, Kind: KindBadRequest, Message: "refusing to follow a link outside Microsoft Graph"}
	} else {
		path = "/v1.0" + path
	}
	if !strings.HasPrefix(path, "/v1.0/") {
		return "", &Error{Source: FromGraph, Kind: KindBadRequest, Message: "refusing a Graph path outside v1.0"}
	}
	if hasDotSegment(path) {
		return "", &Error{Source: FromGraph, Kind: KindBadRequest, Message: "refusing a Graph path with a dot segment"}
	}
	if q := EncodeQuery(query); q != "" {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		path += sep + q
	}
	return "/proxy" + path, nil
}

// hasDotSegment reports whether the path part of p has a "." or ".."
// segment, also once or twice percent-decoded: Nango and Graph decode and
// resolve such segments, so the request would reach another resource than
// the one named. Tools refuse such ids; this is the last line.
func hasDotSegment(p string) bool {
	p, _, _ = strings.Cut(p, "?")
	for range 3 {
		for seg := range strings.FieldsFuncSeq(p, func(r rune) bool { return r == '/' || r == '\\' }) {
			if seg == "." || seg == ".." {
				return true
			}
		}
		decoded, err := url.PathUnescape(p)
		if err != nil || decoded == p {
			return false
		}
		p = decoded
	}
	return false
}

// EncodeQuery encodes OData query options: keys keep their literal "$",
// values are percent-encoded with %20 for spaces (Graph does not read "+"
// as a space in every option), in a stable order.
func EncodeQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		for _, v := range q[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(escapeKey(k))
			b.WriteByte('=')
			b.WriteString(escapeValue(v))
		}
	}
	return b.String()
}

// escapeKey keeps the literal "$" of OData options ($select, $top).
func escapeKey(k string) string {
	if rest, ok := strings.CutPrefix(k, "$"); ok {
		return "$" + escapeValue(rest)
	}
	return escapeValue(k)
}

// escapeValue percent-encodes everything but unreserved characters, so a
// "${" can never reach Nango's interpolation and a quote or "&" in user text
// never changes the query's meaning.
func escapeValue(v string) string {
	return strings.ReplaceAll(url.QueryEscape(v), "+", "%20")
}

// logPath keeps the path but not the query: queries carry user text.
func logPath(p string) string {
	p, _, _ = strings.Cut(p, "?")
	return p
}
