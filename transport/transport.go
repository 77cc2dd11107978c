// Package transport serves an MCP server over stdio, or over HTTP with
// streamable HTTP (/mcp) and legacy SSE (/sse, /message) on one port.
package transport

import (
	"cmp"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/server"
)

// StdioConfig configures the stdio transport.
type StdioConfig struct {
	// MaxRequestBytes bounds one message (line); default 8 MiB.
	MaxRequestBytes int
	// ShutdownGrace is how long calls in flight may still run to their
	// answer once stdin closes or ctx ends; default DefaultShutdownGrace.
	ShutdownGrace time.Duration
	Logger        *slog.Logger
}

// Stdio serves s on in and out until in closes or ctx ends, then lets the
// calls in flight answer (within the grace period). Logs must go elsewhere:
// out is the protocol.
func Stdio(ctx context.Context, s *server.MCPServer, in io.Reader, out io.Writer, cfg StdioConfig) error {
	if cfg.MaxRequestBytes <= 0 {
		cfg.MaxRequestBytes = stdioMaxRequestBytes
	}
	if cfg.ShutdownGrace <= 0 {
		cfg.ShutdownGrace = DefaultShutdownGrace
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	calls := newCalls(s, cfg.Logger)
	out = &lockedWriter{w: out}
	// mcp-go cancels every call as soon as its input ends: it sees the end
	// only once the calls in flight have answered.
	in = newLineLimiter(in, cfg.MaxRequestBytes, out, func() { calls.drain(cfg.ShutdownGrace, false) })
	// Likewise on a signal; calls that arrive meanwhile are refused.
	listenCtx, stopListening := context.WithCancel(context.WithoutCancel(ctx))
	defer stopListening()
	stop := context.AfterFunc(ctx, func() {
		calls.drain(cfg.ShutdownGrace, true)
		stopListening()
	})
	defer stop()

	stdio := server.NewStdioServer(s)
	stdio.SetErrorLogger(log.New(&slogWriter{cfg.Logger}, "", 0))
	err := stdio.Listen(listenCtx, in, out)
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

// slogWriter adapts mcp-go's *log.Logger output to slog.
type slogWriter struct{ l *slog.Logger }

func (w *slogWriter) Write(p []byte) (int, error) {
	w.l.Error(strings.TrimSpace(string(p)))
	return len(p), nil
}

// HTTPConfig configures the HTTP transports.
type HTTPConfig struct {
	Addr string
	// Token, when set, must be presented as "Authorization: Bearer <token>"
	// on every MCP request. Required to listen beyond loopback.
	Token  string
	Logger *slog.Logger
	// ShutdownGrace is how long tool calls in flight may still run once
	// shutdown begins; default DefaultShutdownGrace.
	ShutdownGrace time.Duration
}

// CheckAddr refuses to listen beyond loopback without a token.
func CheckAddr(addr, token string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--addr %q is not host:port: %v", addr, err)
	}
	if token != "" || isLoopback(host) {
		return nil
	}
	return fmt.Errorf("--addr %s listens beyond this machine: set OUTLOOK_MCP_TOKEN to a long random secret that clients must send as a bearer token, or listen on 127.0.0.1", addr)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Handler mounts streamable HTTP at /mcp, legacy SSE at /sse and /message,
// and /healthz. MCP endpoints require the bearer token when one is set.
func Handler(s *server.MCPServer, token string) http.Handler {
	h, _, _ := mount(s, token, nil)
	return h
}

// mount also installs the per-caller limit on s. A stateless streamable
// HTTP request is a session of its own, so its caller is its address; an
// SSE stream's is its session.
func mount(s *server.MCPServer, token string, logger *slog.Logger) (http.Handler, *server.SSEServer, *calls) {
	calls := newCalls(s, logger)
	streamable := server.NewStreamableHTTPServer(s, server.WithStateLess(true), server.WithHTTPContextFunc(callerFromAddr))
	sse := server.NewSSEServer(s, server.WithKeepAlive(true))
	mux := http.NewServeMux()
	mux.Handle("/mcp", requireToken(token, streamable))
	mux.Handle("/sse", requireToken(token, sse.SSEHandler()))
	mux.Handle("/message", requireToken(token, sse.MessageHandler()))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "ok\n")
	})
	return mux, sse, calls
}

func requireToken(token string, next http.Handler) http.Handler {
	if token == "" {
		return next
	}
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="outlook-mcp"`)
			http.Error(w, "missing or wrong bearer token", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// ServeHTTP listens on cfg.Addr until ctx ends, then shuts down gracefully.
// ready, when not nil, receives the bound address (useful with port 0).
func ServeHTTP(ctx context.Context, s *server.MCPServer, cfg HTTPConfig, ready func(addr string)) error {
	if err := CheckAddr(cfg.Addr, cfg.Token); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	handler, sse, calls := mount(s, cfg.Token, cfg.Logger)
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(&slogWriter{cfg.Logger}, "", 0),
	}
	// Shutdown waits for every handler to return, and an SSE stream returns
	// only when its client leaves: end the streams as shutdown begins.
	srv.RegisterOnShutdown(sse.CloseSessions)
	cfg.Logger.Info("listening", "addr", ln.Addr().String(), "mcp", "/mcp", "sse", "/sse", "auth", cfg.Token != "")
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Let the tool calls in flight answer first, while new ones are refused:
	// SSE calls run outside any handler, so Shutdown would not wait for them.
	calls.drain(cmp.Or(cfg.ShutdownGrace, DefaultShutdownGrace), true)
	// Let requests in flight finish, within reason.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return srv.Close()
	}
	return nil
}
