// Package transport serves an MCP server over stdio, or over HTTP with
// streamable HTTP (/mcp) and legacy SSE (/sse, /message) on one port.
package transport

import (
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

// Stdio serves s on in and out until in closes or ctx ends. Logs must go
// elsewhere: out is the protocol.
func Stdio(ctx context.Context, s *server.MCPServer, in io.Reader, out io.Writer, logger *slog.Logger) error {
	stdio := server.NewStdioServer(s)
	stdio.SetErrorLogger(log.New(&slogWriter{logger}, "", 0))
	err := stdio.Listen(ctx, in, out)
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
	h, _ := mount(s, token)
	return h
}

func mount(s *server.MCPServer, token string) (http.Handler, *server.SSEServer) {
	streamable := server.NewStreamableHTTPServer(s, server.WithStateLess(true))
	sse := server.NewSSEServer(s, server.WithKeepAlive(true))
	mux := http.NewServeMux()
	mux.Handle("/mcp", requireToken(token, streamable))
	mux.Handle("/sse", requireToken(token, sse.SSEHandler()))
	mux.Handle("/message", requireToken(token, sse.MessageHandler()))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "ok\n")
	})
	return mux, sse
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
	handler, sse := mount(s, cfg.Token)
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
	// Let requests in flight finish, within reason.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return srv.Close()
	}
	return nil
}
