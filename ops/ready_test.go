package ops

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestReadinessAsksNangoAtMostOncePerPeriod(t *testing.T) {
	var checks atomic.Int32
	fail := atomic.Bool{}
	r := newReadiness(func(context.Context) error {
		checks.Add(1)
		time.Sleep(10 * time.Millisecond) // probes that arrive meanwhile wait for this answer
		if fail.Load() {
			return errors.New("Nango is down")
		}
		return nil
	})
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	r.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
	probe := func() int {
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		return rec.Code
	}

	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() { assert.Equal(t, http.StatusOK, probe()) })
	}
	wg.Wait()
	assert.Equal(t, int32(1), checks.Load(), "50 probes at once, one check")

	fail.Store(true)
	advance(readyFor - time.Second)
	assert.Equal(t, http.StatusOK, probe(), "the answer is reused within the period")
	advance(time.Second)
	assert.Equal(t, http.StatusServiceUnavailable, probe(), "then checked again")
	assert.Equal(t, int32(2), checks.Load())
}
