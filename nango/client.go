// Package nango is a small client of the Nango API: the proxy to Microsoft
// Graph, the connection's granted scopes, and re-authorization links. It
// knows HTTP, Nango and Graph's error shapes; it knows nothing of MCP.
package nango

import (
	"bytes"
	"container/list"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
)

// DefaultHost is Nango's cloud API.
const DefaultHost = "https://api.nango.dev"

const graphBase = "https://graph.microsoft.com"

// Config is everything the client needs. Only SecretKey, IntegrationID and a
// connection id (per call) are required.
type Config struct {
	Host          string // default DefaultHost
	SecretKey     string // Nango environment secret key; never logged
	IntegrationID string // Nango integration id (Provider-Config-Key)
	HTTPClient    *http.Client
	Logger        *slog.Logger

	MaxInFlight int           // concurrent Graph calls per connection; default 4 (Outlook's per-mailbox limit)
	MaxRetries  int           // retries of a throttled or failed call; default 3
	Backoff     time.Duration // first backoff when Graph gives no Retry-After; default 500ms
	MaxWait     time.Duration // longest single wait before giving up and reporting Retry-After; default 30s
	ScopeTTL    time.Duration // how long granted scopes are cached; default 5m

	// Connections are remembered while in use, and while idle up to
	// MaxConnections of them (default 1000), each for at most
	// ConnectionIdle (default 30m): memory stays bounded as users come
	// and go. Forgetting one costs a scope fetch when it comes back.
	MaxConnections int
	ConnectionIdle time.Duration

	// Limits shares each mailbox's MaxInFlight and Retry-After pauses with
	// other replicas (NewRedisLimits); nil keeps them in this process.
	Limits Limits
}

// Client talks to one Nango environment, with a default integration. It is
// safe for concurrent use; per-connection state (scope cache, concurrency
// limit) lives in Connection values it hands out, one per integration and
// connection id, forgotten once idle (see Config.MaxConnections).
type Client struct {
	cfg  Config
	host string
	now  func() time.Time

	mu    sync.Mutex
	conns map[connKey]*list.Element // of *cached; the list is most recently used first
	lru   list.List

	connectLinks map[EndUser]reconnectLink // see ConnectLink; guarded by mu
}

// idleConnections is how many idle connections to Nango the default
// HTTP client keeps for reuse.
const idleConnections = 256

type connKey struct{ integration, id string }

type cached struct {
	key   connKey
	conn  *Connection
	users int       // Use calls not yet released
	used  time.Time // last handed out or released
}

var uuidV4 = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-4[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$`)

// New validates the configuration without any network call.
func New(cfg Config) (*Client, error) {
	if cfg.SecretKey == "" {
		return nil, errors.New("the Nango secret key is empty")
	}
	if !uuidV4.MatchString(cfg.SecretKey) {
		// Say what is wrong without echoing the key.
		return nil, errors.New("the Nango secret key is not a UUID v4: copy it from Nango's Environment Settings")
	}
	if cfg.IntegrationID == "" {
		return nil, errors.New("the Nango integration id is empty")
	}
	if cfg.Host == "" {
		cfg.Host = DefaultHost
	}
	u, err := url.Parse(cfg.Host)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("the Nango host %q is not an http(s) URL", cfg.Host)
	}
	if cfg.HTTPClient == nil {
		// Every request goes to one host, Nango. net/http keeps 2 idle
		// connections per host: with more calls in flight, each one beyond
		// those would open a connection and leave it in TIME_WAIT.
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns, t.MaxIdleConnsPerHost = idleConnections, idleConnections
		cfg.HTTPClient = &http.Client{Timeout: 2 * time.Minute, Transport: t}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 4
	}
	if cfg.MaxRetries < 0 {
		cfg.MaxRetries = 0
	} else if cfg.MaxRetries == 0 {
		cfg.MaxRetries = 3
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 500 * time.Millisecond
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = 30 * time.Second
	}
	if cfg.ScopeTTL <= 0 {
		cfg.ScopeTTL = 5 * time.Minute
	}
	if cfg.MaxConnections <= 0 {
		cfg.MaxConnections = 1000
	}
	if cfg.ConnectionIdle <= 0 {
		cfg.ConnectionIdle = 30 * time.Minute
	}
	return &Client{cfg: cfg, host: strings.TrimRight(cfg.Host, "/"), now: time.Now, conns: map[connKey]*list.Element{}}, nil
}

// IntegrationID is the Nango integration this client uses by default.
func (c *Client) IntegrationID() string { return c.cfg.IntegrationID }

// Connection returns the handle of one Nango connection (one user's
// mailbox) of the default integration, creating it on first use. The
// handle may be forgotten once idle; prefer Use where a call holds it.
func (c *Client) Connection(id string) *Connection {
	conn, release := c.Use("", id)
	release()
	return conn
}

// Use returns the handle of connection id of integration ("" = the
// default one), creating it on first use, and a func to call once done
// with it. Until then the handle is never forgotten, so every call on one
// connection shares its concurrency limit and scope cache.
func (c *Client) Use(integration, id string) (*Connection, func()) {
	if integration == "" {
		integration = c.cfg.IntegrationID
	}
	key := connKey{integration, id}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	e, ok := c.conns[key]
	if ok {
		c.lru.MoveToFront(e)
	} else {
		conn := &Connection{client: c, integration: integration, id: id, slots: make(chan struct{}, c.cfg.MaxInFlight), fetching: make(chan struct{}, 1)}
		e = c.lru.PushFront(&cached{key: key, conn: conn})
		c.conns[key] = e
	}
	entry := e.Value.(*cached)
	entry.users++
	entry.used = now
	if !ok {
		c.forget(now)
	}
	var once sync.Once
	return entry.conn, func() {
		once.Do(func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			entry.users--
			entry.used = c.now()
			if e, ok := c.conns[key]; ok && e.Value == entry {
				c.lru.MoveToFront(e)
			}
		})
	}
}

// forget drops, least recently used first, the idle connections beyond
// MaxConnections or unused for ConnectionIdle. A connection in use (held,
// with a Graph call or a scope fetch in flight) is never dropped. The
// caller holds c.mu.
func (c *Client) forget(now time.Time) {
	for e := c.lru.Back(); e != nil; {
		entry, prev := e.Value.(*cached), e.Prev()
		stale := now.Sub(entry.used) >= c.cfg.ConnectionIdle
		if !stale && c.lru.Len() <= c.cfg.MaxConnections {
			return // the rest were used more recently
		}
		if entry.users == 0 && len(entry.conn.slots) == 0 && len(entry.conn.fetching) == 0 {
			c.lru.Remove(e)
			delete(c.conns, entry.key)
		}
		e = prev
	}
}

// Connections is how many connections the client remembers.
func (c *Client) Connections() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// send makes one HTTP request to Nango with the secret key and returns the
// status, headers and body. A non-2xx answer is returned as *Error.
func (c *Client) send(ctx context.Context, method, path string, header http.Header, body []byte) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.host+path, bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Authorization", "Bearer "+c.cfg.SecretKey)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		var opErr *net.OpError
		unsent := errors.As(err, &opErr) && opErr.Op == "dial" // no connection, so no request
		return nil, nil, &Error{Source: FromNetwork, Kind: KindUnavailable, Message: "cannot reach Nango at " + c.host, Err: scrub(err), unsent: unsent}
	}
	defer resp.Body.Close()
	traceAnswer(ctx, resp)
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		return nil, nil, &Error{Source: FromNetwork, Kind: KindUnavailable, Status: resp.StatusCode, Message: "the answer from Nango was cut off", Err: scrub(err)}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp, data, parseError(resp, data)
	}
	return resp, data, nil
}

// scrub drops the request URL from a *url.Error: it can carry user data.
func scrub(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// decode fills out from a JSON body; an empty body (Nango's 200 for Graph's
// 202) leaves out untouched. A *[]byte receives the body as it came (an
// attachment's $value).
func decode(data []byte, out any) error {
	if raw, ok := out.(*[]byte); ok {
		*raw = data
		return nil
	}
	if out == nil || len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return &Error{Source: FromGraph, Kind: KindOther, Message: "unexpected answer: " + err.Error()}
	}
	return nil
}
