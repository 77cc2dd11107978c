package transport

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/server"

	"github.com/outlook-mcp/outlook-mcp/identity"
)

// Defaults of the HTTP bounds; each has a flag in main.go.
const (
	DefaultMaxRequestBytes = 8 << 20
	DefaultMaxSessions     = 1000

	defaultReadHeaderTimeout = 10 * time.Second
	// A request's body must arrive within this; 8 MiB needs about 140 KB/s.
	defaultReadTimeout = 60 * time.Second
	defaultIdleTimeout = 60 * time.Second

	// minTokenLength is the shortest OUTLOOK_MCP_TOKEN accepted beyond
	// loopback: 32 hex characters are 128 random bits.
	minTokenLength = 32
)

// HTTPConfig configures the HTTP transports. Zero values mean the defaults.
type HTTPConfig struct {
	Addr string
	// Token, when set, must be presented as "Authorization: Bearer <token>"
	// on every MCP request (token mode, when Auth is nil). Required to
	// listen beyond loopback in that mode, and then at least 32 characters.
	Token string
	// Auth authenticates every MCP request; nil means the token mode
	// (TokenAuth(Token)). Any other authenticator may listen beyond
	// loopback: it authenticates every request itself.
	Auth Authenticator
	// Public are documents served to anyone, outside the guard, by path:
	// the OAuth protected-resource metadata a client reads before it has
	// a token.
	Public map[string]http.Handler
	Logger *slog.Logger

	// AllowedOrigins are the web origins (scheme://host[:port]) whose pages
	// may call the MCP endpoints. A request with any other Origin gets 403;
	// one without Origin (not from a browser) passes.
	AllowedOrigins []string
	// AllowedHosts are Host names accepted on a loopback socket besides
	// localhost and loopback IPs: the names a reverse proxy on this machine
	// forwards.
	AllowedHosts []string
	// TrustedProxies are the IPs or CIDR ranges whose X-Forwarded-For is
	// believed when telling who the client is (see Guard.ClientAddr).
	TrustedProxies []string
	// MaxRequestBytes bounds the body of a POST (DefaultMaxRequestBytes).
	MaxRequestBytes int64
	// MaxSessions bounds the SSE streams open at once (DefaultMaxSessions).
	MaxSessions int

	// ReadTimeout bounds reading one request, body included; net/http lifts
	// it once the request is read, so streams and long tool calls outlast
	// it. There is no write timeout, for the same streams.
	ReadHeaderTimeout, ReadTimeout, IdleTimeout time.Duration
	// ShutdownGrace is how long tool calls in flight may still run once
	// shutdown begins; default DefaultShutdownGrace.
	ShutdownGrace time.Duration

	// Ops are /metrics and /readyz, served next to /healthz.
	Ops Ops
}

func (cfg HTTPConfig) withDefaults() HTTPConfig {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxRequestBytes == 0 {
		cfg.MaxRequestBytes = DefaultMaxRequestBytes
	}
	if cfg.MaxSessions == 0 {
		cfg.MaxSessions = DefaultMaxSessions
	}
	if cfg.ReadHeaderTimeout == 0 {
		cfg.ReadHeaderTimeout = defaultReadHeaderTimeout
	}
	if cfg.ReadTimeout == 0 {
		cfg.ReadTimeout = defaultReadTimeout
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = defaultIdleTimeout
	}
	if cfg.ShutdownGrace == 0 {
		cfg.ShutdownGrace = DefaultShutdownGrace
	}
	return cfg
}

// Check reports the first setting that would stop the server from starting,
// in words that name the flag or variable to change.
func (cfg HTTPConfig) Check() error {
	if _, err := NewGuard(cfg); err != nil {
		return err
	}
	return cfg.checkAddr()
}

func (cfg HTTPConfig) checkAddr() error {
	if cfg.Auth != nil {
		_, _, err := net.SplitHostPort(cfg.Addr)
		if err != nil {
			return fmt.Errorf("--addr %q is not host:port: %v", cfg.Addr, err)
		}
		return nil
	}
	return CheckAddr(cfg.Addr, cfg.Token)
}

// CheckAddr refuses to listen beyond loopback without a long token, in the
// token mode.
func CheckAddr(addr, token string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--addr %q is not host:port: %v", addr, err)
	}
	if isLoopback(host) {
		return nil
	}
	if token == "" {
		return fmt.Errorf("--addr %s listens beyond this machine: set OUTLOOK_MCP_TOKEN to a long random secret that clients must send as a bearer token (make one with: openssl rand -hex 32), or listen on 127.0.0.1", addr)
	}
	if len(token) < minTokenLength {
		return fmt.Errorf("--addr %s listens beyond this machine, and OUTLOOK_MCP_TOKEN is too short to resist guessing (%d characters, at least %d needed): make one with: openssl rand -hex 32", addr, len(token), minTokenLength)
	}
	return nil
}

// isLoopback reports whether host (no port; brackets allowed) is
// localhost or a loopback IP.
func isLoopback(host string) bool {
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// Handler mounts streamable HTTP at /mcp, legacy SSE at /sse and /message,
// all behind the guard, /healthz, and cfg.Ops.
func Handler(s *server.MCPServer, cfg HTTPConfig) (http.Handler, error) {
	h, _, _, err := mount(s, cfg)
	return h, err
}

// mount also installs the per-caller limit on s. The guard authenticates
// every request and puts the identity in its context; tool handlers get it
// from there. A stateless streamable HTTP request is a session of its own:
// without a connection in its identity (token mode) its caller is the
// client's address. An SSE session acts as the identity that opened it, and
// without a connection its caller is the session.
func mount(s *server.MCPServer, cfg HTTPConfig) (http.Handler, *server.SSEServer, *calls, error) {
	cfg = cfg.withDefaults()
	g, err := NewGuard(cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	calls := newCalls(s, cfg.Logger)
	fromRequest := func(ctx context.Context, r *http.Request) context.Context {
		id, _ := identity.From(r.Context())
		return withIdentity(ctx, id, Caller("addr:"+g.ClientAddr(r)))
	}
	bound := newSessions()
	// mcp-go's own Host check would refuse the names of --allowed-hosts:
	// the guard does that check instead.
	streamable := server.NewStreamableHTTPServer(s, server.WithStateLess(true), server.WithHTTPContextFunc(fromRequest),
		server.WithDisableLocalhostProtection(true), server.WithStreamableHTTPLogger(cfg.Logger))
	sse := server.NewSSEServer(s, server.WithKeepAlive(true),
		server.WithSSEDisableLocalhostProtection(true), server.WithSessionIDGenerator(bound.generateID), server.WithSSEContextFunc(bound.context))
	mux := http.NewServeMux()
	mux.Handle("/mcp", g.Protect(checkStreamable(streamable), true))
	mux.Handle("/sse", g.Protect(bound.open(sse.SSEHandler()), true))
	mux.Handle("/message", g.Protect(bound.post(g, checkMessage(sse, withoutStrayVersion(sse.MessageHandler()))), false))
	cfg.Ops.mount(mux, g)
	for path, h := range cfg.Public {
		mux.Handle(path, h)
	}
	return mux, sse, calls, nil
}
