package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/outlook-mcp/outlook-mcp/identity"
)

// Guard is the front door of the MCP endpoints. In order, a request must
// come with a Host of this server (DNS rebinding), no Origin or an allowed
// one (web pages), credentials the authenticator accepts (wrong ones
// throttled per client), JSON within the size bound when it is a POST; a
// new stream must fit under the stream bound. The identity the
// authenticator gives travels on in the request's context.
type Guard struct {
	origins    map[string]bool // canonical scheme://host[:port]
	hosts      map[string]bool // lower case, no port
	proxies    []netip.Prefix
	auth       Authenticator
	maxBody    int64
	maxStreams int64
	streams    atomic.Int64
	large      chan struct{} // one token per large body being worked on
	failures   *throttle
	logger     *slog.Logger
}

// NewGuard validates cfg's HTTP settings and builds the guard.
func NewGuard(cfg HTTPConfig) (*Guard, error) {
	cfg = cfg.withDefaults()
	g := &Guard{
		origins:    map[string]bool{},
		hosts:      map[string]bool{},
		maxBody:    cfg.MaxRequestBytes,
		maxStreams: int64(cfg.MaxSessions),
		large:      make(chan struct{}, maxLargeAtOnce),
		failures:   newThrottle(),
		logger:     cfg.Logger,
	}
	if g.maxBody < 1 {
		return nil, fmt.Errorf("--max-request-bytes must be at least 1, not %d", g.maxBody)
	}
	if g.maxStreams < 1 {
		return nil, fmt.Errorf("--max-sessions must be at least 1, not %d", g.maxStreams)
	}
	for _, s := range cfg.AllowedOrigins {
		o, err := parseOrigin(s)
		if err != nil {
			return nil, fmt.Errorf("--allowed-origins: %w", err)
		}
		g.origins[o] = true
	}
	for _, s := range cfg.AllowedHosts {
		h, err := parseHost(s)
		if err != nil {
			return nil, fmt.Errorf("--allowed-hosts: %w", err)
		}
		g.hosts[h] = true
	}
	for _, s := range cfg.TrustedProxies {
		p, err := parsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("--trusted-proxies: %w", err)
		}
		g.proxies = append(g.proxies, p)
	}
	g.auth = cfg.Auth
	if g.auth == nil {
		g.auth = TokenAuth(cfg.Token)
	}
	return g, nil
}

// parseOrigin canonicalizes an origin as browsers send it: lower case,
// without the scheme's default port.
func parseOrigin(s string) (string, error) {
	const form = "an origin is scheme://host[:port], e.g. https://app.example.com"
	if strings.TrimSpace(s) == "*" {
		return "", errors.New("* would let every web page drive this server: list the origins of the pages that may, e.g. https://app.example.com")
	}
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Scheme == "" || u.Host == "" || u.Opaque != "" {
		return "", fmt.Errorf("%q is not an origin: %s", s, form)
	}
	if u.User != nil || (u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery) {
		return "", fmt.Errorf("%q has more than an origin (a path, query or user): %s", s, form)
	}
	scheme, host, port := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname()), u.Port()
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if port != "" {
		host = net.JoinHostPort(host, port)
	} else if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return scheme + "://" + host, nil
}

func parseHost(s string) (string, error) {
	h := strings.ToLower(strings.Trim(strings.TrimSpace(s), "[]"))
	if _, err := netip.ParseAddr(h); err == nil {
		return h, nil
	}
	if h == "" || strings.ContainsAny(h, ":/@?# ") {
		return "", fmt.Errorf("%q is not a host name: give names as a reverse proxy sends them in Host, without scheme or port, e.g. mcp.example.com", s)
	}
	return h, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	if ip, err := netip.ParseAddr(s); err == nil {
		ip = ip.Unmap()
		return netip.PrefixFrom(ip, ip.BitLen()), nil
	}
	return netip.Prefix{}, fmt.Errorf("%q is neither an IP address nor a CIDR range such as 10.0.0.0/8", s)
}

// ClientAddr is the IP address of the client that sent r: the peer, or,
// when the peer is a trusted proxy, the right-most address of
// X-Forwarded-For that is not itself a trusted proxy (the left part of the
// header is whatever the client wrote). Throttling is keyed by it.
func (g *Guard) ClientAddr(r *http.Request) string {
	peer, ok := parseIP(r.RemoteAddr)
	if !ok {
		return r.RemoteAddr
	}
	if !g.trusted(peer) {
		return peer.String()
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		ip, ok := parseIP(strings.TrimSpace(hops[i]))
		if !ok {
			break // not written by a proxy we trust: believe nothing left of it
		}
		if !g.trusted(ip) {
			return ip.String()
		}
	}
	return peer.String()
}

// parseIP reads an IP address, with or without a port.
func parseIP(s string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	ip, err := netip.ParseAddr(strings.Trim(s, "[]"))
	return ip.Unmap(), err == nil
}

func (g *Guard) trusted(ip netip.Addr) bool {
	for _, p := range g.proxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// Headers a browser page may send and read (answered to preflights).
const (
	corsMethods = "GET, POST, DELETE, OPTIONS"
	corsHeaders = "Authorization, Content-Type, Accept, Mcp-Session-Id, Mcp-Protocol-Version, Mcp-Method, Mcp-Name, Last-Event-ID, Connection-Id, Provider-Config-Key"
	corsExpose  = "Mcp-Session-Id"
)

// Protect wraps an MCP endpoint. stream marks endpoints whose GET opens a
// long-lived event stream, counted against the stream bound.
func (g *Guard) Protect(next http.Handler, stream bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Origin")
		if !g.hostAllowed(r) {
			g.refuse(w, r, http.StatusForbidden, fmt.Sprintf("Host %q is not a name of this server: a reverse proxy on this machine must forward Host: localhost, or the name must be in --allowed-hosts", r.Host))
			return
		}
		origin, ok := g.origin(r)
		if !ok {
			g.refuse(w, r, http.StatusForbidden, fmt.Sprintf("Origin %q may not call this server: only pages of the origins listed in --allowed-origins may", strings.Join(r.Header.Values("Origin"), ", ")))
			return
		}
		if origin != "" {
			w.Header().Set("Access-Control-Allow-Origin", origin)
			w.Header().Set("Access-Control-Expose-Headers", corsExpose)
			if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
				preflight(w, r)
				return
			}
		}
		r, ok = g.authenticate(w, r)
		if !ok {
			return
		}
		if r.Method == http.MethodPost {
			if r.ContentLength < 0 || r.ContentLength > largeBody {
				if !g.takeLargeSlot(w, r) {
					return
				}
				defer func() { <-g.large }()
			}
			if !g.readBody(w, r) {
				return
			}
		}
		if stream && r.Method == http.MethodGet {
			if g.streams.Add(1) > g.maxStreams {
				g.streams.Add(-1)
				w.Header().Set("Retry-After", "30")
				g.refuse(w, r, http.StatusServiceUnavailable, fmt.Sprintf("%d event streams are open, the most this server keeps (--max-sessions): retry later", g.maxStreams))
				return
			}
			defer g.streams.Add(-1)
		}
		next.ServeHTTP(&originWriter{ResponseWriter: w, allow: origin}, r)
	})
}

// hostAllowed is mcp-go's DNS-rebinding rule, plus --allowed-hosts: on a
// loopback socket, Host must be a loopback name or a listed one.
func (g *Guard) hostAllowed(r *http.Request) bool {
	local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return true
	}
	if ip, ok := parseIP(local.String()); !ok || !ip.IsLoopback() {
		return true
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return isLoopback(host) || g.hosts[strings.ToLower(strings.Trim(host, "[]"))]
}

// origin returns the request's allowed origin ("" without one), or false
// when the request comes from a page of another origin.
func (g *Guard) origin(r *http.Request) (string, bool) {
	values := r.Header.Values("Origin")
	switch {
	case len(values) == 0:
		return "", true
	case len(values) > 1:
		return "", false
	}
	o := strings.ToLower(values[0])
	return o, g.origins[o] || sameLoopbackOrigin(r, o)
}

// sameLoopbackOrigin: a page of the very loopback address and port the
// request was sent to (Origin http://127.0.0.1:8080 with Host
// 127.0.0.1:8080, on a loopback socket) was served on this machine, whose
// processes can call the server without a browser anyway; MCP's DNS
// rebinding rule accepts it. Another port, name or scheme stays foreign.
func sameLoopbackOrigin(r *http.Request, origin string) bool {
	local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return false
	}
	if ip, ok := parseIP(local.String()); !ok || !ip.IsLoopback() {
		return false
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if !isLoopback(host) {
		return false
	}
	scheme := "http://"
	if r.TLS != nil {
		scheme = "https://"
	}
	return origin == scheme+strings.ToLower(r.Host)
}

func preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", corsMethods)
	allow := corsHeaders
	// Requests of the 2026-07-28 era carry their parameters in headers.
	for _, v := range r.Header.Values("Access-Control-Request-Headers") {
		for _, name := range strings.Split(v, ",") {
			if name = strings.TrimSpace(name); len(name) > 10 && strings.EqualFold(name[:10], "mcp-param-") {
				allow += ", " + name
			}
		}
	}
	h.Set("Access-Control-Allow-Headers", allow)
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}

// authenticate asks the authenticator who r is, under the failure
// throttle: a client that guessed wrong too often is refused before its
// credentials are looked at. It returns r carrying the identity, or false
// when the answer has been sent instead.
func (g *Guard) authenticate(w http.ResponseWriter, r *http.Request) (*http.Request, bool) {
	client := g.ClientAddr(r)
	var id identity.Identity
	var refusal *AuthError
	wait, limited, err := g.failures.attempt(r.Context(), throttleKey(client), func() bool {
		id, refusal = g.auth.Authenticate(r)
		return refusal != nil && refusal.Guess
	})
	switch {
	case err != nil: // the client left, or the server is stopping
		g.refuse(w, r, http.StatusServiceUnavailable, "the request ended before its credentials were checked: retry")
		return nil, false
	case wait > 0:
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		g.refuse(w, r, http.StatusTooManyRequests, fmt.Sprintf("too many wrong credentials from %s: retry in %s", client, wait.Round(time.Second)))
		return nil, false
	case refusal != nil:
		if limited {
			g.logger.Warn("too many wrong credentials: refusing this client for a while", "client", client, "failures", authFailureLimit, "within", authFailureWindow)
		}
		if refusal.Challenge != "" {
			w.Header().Set("WWW-Authenticate", refusal.Challenge)
		}
		code := refusal.Status
		switch {
		case code == http.StatusServiceUnavailable:
			w.Header().Set("Retry-After", "5") // the credentials could not be checked now
		case code < 400 || code > 499:
			code = http.StatusUnauthorized // a refusal is never a success
		}
		g.refuse(w, r, code, refusal.Message)
		return nil, false
	}
	return r.WithContext(identity.With(r.Context(), id)), true
}

// refuse answers r with code and msg, which says what to change.
func (g *Guard) refuse(w http.ResponseWriter, r *http.Request, code int, msg string) {
	g.logger.Debug("http request refused", "status", code, "method", r.Method, "path", r.URL.Path, "client", g.ClientAddr(r), "why", msg)
	http.Error(w, msg, code)
}

// readBody takes a POST's body in whole, if it is JSON within the bound, so
// that mcp-go's handlers see a bounded body (and never turn the overflow
// into a JSON-RPC parse error).
// A large body is decoded several times over on its way to Graph (the
// JSON-RPC message, the arguments, the Graph request), each copy as large
// as the body: ten 4 MiB sends at once took 420 MiB. So only a few large
// bodies are read and worked on at once (on /mcp, to the call's answer);
// the others wait their turn, then get 503.
const (
	largeBody      = 1 << 20
	maxLargeAtOnce = 2
	largeWait      = 30 * time.Second
)

// takeLargeSlot waits for a turn to work on a large body; false when the
// answer has been sent instead.
func (g *Guard) takeLargeSlot(w http.ResponseWriter, r *http.Request) bool {
	timer := time.NewTimer(largeWait)
	defer timer.Stop()
	select {
	case g.large <- struct{}{}:
		return true
	case <-r.Context().Done():
		return false
	case <-timer.C:
		w.Header().Set("Retry-After", "5")
		g.refuse(w, r, http.StatusServiceUnavailable, fmt.Sprintf("%d large requests (over 1 MiB) are being worked on, the most this server takes at once: retry in a few seconds", maxLargeAtOnce))
		return false
	}
}

func (g *Guard) readBody(w http.ResponseWriter, r *http.Request) bool {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		g.refuse(w, r, http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Type %q is not accepted: send JSON-RPC as application/json", r.Header.Get("Content-Type")))
		return false
	}
	tooLarge := func() bool {
		g.refuse(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than the %d bytes this server takes (--max-request-bytes): send less at once, e.g. smaller attachments", g.maxBody))
		return false
	}
	if r.ContentLength > g.maxBody {
		return tooLarge()
	}
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength) + 1) // one allocation, not doublings
	}
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, g.maxBody))
	body := buf.Bytes()
	if tooBig := (*http.MaxBytesError)(nil); errors.As(err, &tooBig) {
		return tooLarge()
	}
	if err != nil {
		g.refuse(w, r, http.StatusBadRequest, "could not read the request body: "+err.Error())
		return false
	}
	r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	return true
}

// originWriter sends the guard's Access-Control-Allow-Origin and no other:
// mcp-go's SSE handler sets "*", which would let any page read the stream.
type originWriter struct {
	http.ResponseWriter
	allow string
	fixed bool
}

func (w *originWriter) fix() {
	if w.fixed {
		return
	}
	w.fixed = true
	if w.allow == "" {
		w.Header().Del("Access-Control-Allow-Origin")
	} else {
		w.Header().Set("Access-Control-Allow-Origin", w.allow)
	}
}

func (w *originWriter) WriteHeader(code int) { w.fix(); w.ResponseWriter.WriteHeader(code) }

func (w *originWriter) Write(p []byte) (int, error) { w.fix(); return w.ResponseWriter.Write(p) }

func (w *originWriter) Flush() { w.fix(); _ = http.NewResponseController(w.ResponseWriter).Flush() }

func (w *originWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Failed credentials: after authFailureLimit within authFailureWindow, a
// client is refused until the window ends. At most maxTrackedClients are
// remembered; the oldest make room.
const (
	authFailureLimit  = 10
	authFailureWindow = time.Minute
	maxTrackedClients = 10_000
)

type throttle struct {
	mu      sync.Mutex
	now     func() time.Time
	clients map[string]*strikes
	turns   map[string]*keyTurn // keys with attempts in progress
}

// keyTurn lets one attempt of a key run at a time.
type keyTurn struct {
	ch    chan struct{}
	users int // attempts running or waiting
}

type strikes struct {
	n     int
	since time.Time
}

func newThrottle() *throttle {
	return &throttle{now: time.Now, clients: map[string]*strikes{}, turns: map[string]*keyTurn{}}
}

// throttleKey is the client address, or for IPv6 its /64: one host
// usually holds a whole /64.
func throttleKey(client string) string {
	ip, err := netip.ParseAddr(client)
	if err != nil || ip.Is4() {
		return client
	}
	p, _ := ip.WithZone("").Prefix(64)
	return p.String()
}

// attempt runs check for key unless key must wait, and counts a failure
// when check reports one. The attempts of one key run one at a time, so
// parallel guesses cannot slip past the limit; other keys are not held up
// while check runs (an authenticator may do I/O). limited tells when this
// failure reached the limit; err is ctx's when it ended while waiting.
func (t *throttle) attempt(ctx context.Context, key string, check func() (failed bool)) (wait time.Duration, limited bool, err error) {
	t.mu.Lock()
	turn := t.turns[key]
	if turn == nil {
		turn = &keyTurn{ch: make(chan struct{}, 1)}
		t.turns[key] = turn
	}
	turn.users++
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		if turn.users--; turn.users == 0 {
			delete(t.turns, key)
		}
		t.mu.Unlock()
	}()
	select {
	case turn.ch <- struct{}{}:
		defer func() { <-turn.ch }()
	case <-ctx.Done():
		return 0, false, ctx.Err()
	}
	t.mu.Lock()
	wait = t.wait(key)
	t.mu.Unlock()
	if wait > 0 {
		return wait, false, nil
	}
	if !check() {
		return 0, false, nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return 0, t.fail(key), nil
}

// wait is how long key must wait before presenting credentials again.
func (t *throttle) wait(key string) time.Duration {
	s := t.clients[key]
	if s == nil {
		return 0
	}
	left := s.since.Add(authFailureWindow).Sub(t.now())
	if left <= 0 {
		delete(t.clients, key)
		return 0
	}
	if s.n < authFailureLimit {
		return 0
	}
	return left
}

// fail counts a failure of key; true when it reaches the limit.
func (t *throttle) fail(key string) bool {
	now := t.now()
	s := t.clients[key]
	if s == nil || now.Sub(s.since) >= authFailureWindow {
		if s == nil && len(t.clients) >= maxTrackedClients {
			t.evict(now)
		}
		s = &strikes{since: now}
		t.clients[key] = s
	}
	s.n++
	return s.n == authFailureLimit
}

// evict forgets the clients whose window has ended, or else the oldest.
func (t *throttle) evict(now time.Time) {
	var oldest string
	for k, s := range t.clients {
		if now.Sub(s.since) >= authFailureWindow {
			delete(t.clients, k)
		} else if oldest == "" || s.since.Before(t.clients[oldest].since) {
			oldest = k
		}
	}
	if len(t.clients) >= maxTrackedClients {
		delete(t.clients, oldest)
	}
}
