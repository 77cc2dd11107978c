package ops

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

const (
	// readyFor is how long an answer of /readyz is reused: however often
	// it is probed, Nango is asked at most once per readyFor.
	readyFor = 5 * time.Second
	// readyTimeout bounds one check of Nango.
	readyTimeout = 5 * time.Second
)

// readiness answers /readyz from a check of Nango made at most once per
// readyFor; probes that arrive during a check wait for its answer.
type readiness struct {
	check func(context.Context) error
	now   func() time.Time

	mu  sync.Mutex // held across a check
	at  time.Time  // when err was found; zero: never checked
	err error
}

func newReadiness(check func(context.Context) error) *readiness {
	return &readiness{check: check, now: time.Now}
}

func (r *readiness) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	err := r.state(req.Context())
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "not ready: %v\n", err)
		return
	}
	_, _ = io.WriteString(w, "ready\n")
}

func (r *readiness) state(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.at.IsZero() && r.now().Sub(r.at) < readyFor {
		return r.err
	}
	// A probe that gives up does not waste the check for the next one.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), readyTimeout)
	defer cancel()
	r.err = r.check(ctx)
	r.at = r.now()
	return r.err
}
