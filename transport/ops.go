package transport

import (
	"context"
	"io"
	"net"
	"net/http"
	"time"
)

// Ops are the operator's endpoints besides /healthz, each optional:
// mounted by the HTTP transport, or on a listener of their own (StartOps).
type Ops struct {
	// Metrics is served at /metrics behind the guard (Host, Origin, token),
	// as the MCP endpoints are.
	Metrics http.Handler
	// Ready is served at /readyz, open like /healthz: load balancers probe
	// without credentials, and it answers only "ready" or a reason.
	Ready http.Handler
}

func (o Ops) mount(mux *http.ServeMux, g *Guard) {
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "ok\n")
	})
	if o.Ready != nil {
		mux.Handle("/readyz", o.Ready)
	}
	if o.Metrics != nil {
		mux.Handle("/metrics", g.Protect(o.Metrics, false))
	}
}

// StartOps serves ops (and /healthz) on addr until ctx ends, behind a guard
// built from cfg: like the main listener, it refuses to listen beyond
// loopback without the token, and then asks for it. It returns the bound
// address once listening; done receives the end of serving.
func StartOps(ctx context.Context, addr string, ops Ops, cfg HTTPConfig) (bound string, done <-chan error, err error) {
	if err := CheckAddr(addr, cfg.Token); err != nil {
		return "", nil, err
	}
	cfg = cfg.withDefaults()
	g, err := NewGuard(cfg)
	if err != nil {
		return "", nil, err
	}
	mux := http.NewServeMux()
	ops.mount(mux, g)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, err
	}
	srv := newHTTPServer(mux, cfg)
	cfg.Logger.Info("metrics listening", "addr", ln.Addr().String(), "metrics", "/metrics", "auth", cfg.Token != "")
	errc := make(chan error, 1)
	go func() {
		err := srv.Serve(ln)
		if err == http.ErrServerClosed {
			err = nil
		}
		errc <- err
	}()
	context.AfterFunc(ctx, func() {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if srv.Shutdown(shutdownCtx) != nil {
			_ = srv.Close()
		}
	})
	return ln.Addr().String(), errc, nil
}
