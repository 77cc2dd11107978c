// Package transport serves an MCP server over stdio, or over HTTP with
// streamable HTTP (/mcp) and legacy SSE (/sse, /message) on one port.
package transport

import (
	"context"
	"errors"
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

// newHTTPServer serves h with cfg's timeouts, its errors logged.
func newHTTPServer(h http.Handler, cfg HTTPConfig) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		ErrorLog:          log.New(&slogWriter{cfg.Logger}, "", 0),
	}
}

// ServeHTTP listens on cfg.Addr until ctx ends, then shuts down gracefully.
// ready, when not nil, receives the bound address (useful with port 0).
func ServeHTTP(ctx context.Context, s *server.MCPServer, cfg HTTPConfig, ready func(addr string)) error {
	if err := cfg.checkAddr(); err != nil {
		return err
	}
	cfg = cfg.withDefaults()
	handler, sse, calls, err := mount(s, cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	srv := newHTTPServer(handler, cfg)
	// Shutdown waits for every handler to return, and an SSE stream returns
	// only when its client leaves: end the streams as shutdown begins.
	srv.RegisterOnShutdown(sse.CloseSessions)
	cfg.Logger.Info("listening", "addr", ln.Addr().String(), "mcp", "/mcp", "sse", "/sse", "auth", cfg.Auth != nil || cfg.Token != "")
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
	calls.drain(cfg.ShutdownGrace, true)
	// Let requests in flight finish, within reason.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return srv.Close()
	}
	return nil
}
