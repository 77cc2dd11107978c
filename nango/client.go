// Package nango is a small client of the Nango API: the proxy to Microsoft
// Graph, the connection's granted scopes, and re-authorization links. It
// knows HTTP, Nango and Graph's error shapes; it knows nothing of MCP.
package nango

import (
	"bytes"
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

	// Limits shares each mailbox's MaxInFlight and Retry-After pauses with
	// other replicas (NewRedisLimits); nil keeps them in this process.
	Limits Limits
}

// Client talks to one Nango environment and integration. It is safe for
// concurrent use; per-connection state (scope cache, concurrency limit)
// lives in Connection values it hands out.
type Client struct {
	cfg   Config
	host  string
	mu    sync.Mutex
	conns map[string]*Connection
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
		cfg.HTTPClient = &http.Client{Timeout: 2 * time.Minute}
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
	return &Client{cfg: cfg, host: strings.TrimRight(cfg.Host, "/"), conns: map[string]*Connection{}}, nil
}

// IntegrationID is the Nango integration this client uses.
func (c *Client) IntegrationID() string { return c.cfg.IntegrationID }

// Connection returns the handle of one Nango connection (one user's
// mailbox), creating it on first use.
func (c *Client) Connection(id string) *Connection {
	c.mu.Lock()
	defer c.mu.Unlock()
	conn, ok := c.conns[id]
	if !ok {
		conn = &Connection{client: c, id: id, slots: make(chan struct{}, c.cfg.MaxInFlight), fetching: make(chan struct{}, 1)}
		c.conns[id] = conn
	}
	return conn
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
