package nango

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gatedServer holds every request until release is called (or its client
// hangs up), counting the requests in flight per Connection-Id and the peak
// per connection.
type gatedServer struct {
	*fakeNango
	gate    chan struct{}
	once    sync.Once
	mu      sync.Mutex
	current map[string]int
	peak    map[string]int
	total   atomic.Int32
}

func newGatedServer(t *testing.T) *gatedServer {
	g := &gatedServer{gate: make(chan struct{}), current: map[string]int{}, peak: map[string]int{}}
	g.fakeNango = newFakeNango(t, func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("Connection-Id")
		g.mu.Lock()
		g.current[id]++
		g.peak[id] = max(g.peak[id], g.current[id])
		g.mu.Unlock()
		g.total.Add(1)

		select {
		case <-g.gate:
		case <-r.Context().Done(): // the client is gone (a replica killed mid-call)
		}

		// Leave before answering: the client frees its slot only after the
		// answer, so the server can never over-count.
		g.total.Add(-1)
		g.mu.Lock()
		g.current[id]--
		g.mu.Unlock()
		reply(200, `{}`)(w, r)
	})
	// Registered after the server, so it runs before the server closes.
	t.Cleanup(g.release)
	return g
}

func (g *gatedServer) release() { g.once.Do(func() { close(g.gate) }) }

func (g *gatedServer) inFlight(id string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.current[id]
}

func (g *gatedServer) peakOf(id string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.peak[id]
}

// callMany starts n concurrent Do calls and returns a wait function that
// reports their errors.
func callMany(conn *Connection, n int) func() []error {
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { errs[i] = conn.Do(context.Background(), get("/me/messages"), nil) })
	}
	return func() []error { wg.Wait(); return errs }
}

func TestConcurrentCallsStayWithinMaxInFlight(t *testing.T) {
	tests := []struct {
		name        string
		maxInFlight int
		want        int
	}{
		{"default is Outlook's 4", 0, 4},
		{"custom", 2, 2},
		{"one at a time", 1, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := newGatedServer(t)
			c := newClient(t, g.srv.URL, func(c *Config) { c.MaxInFlight = tc.maxInFlight })
			wait := callMany(c.Connection("conn-1"), 20)

			require.Eventually(t, func() bool { return g.inFlight("conn-1") >= tc.want }, 5*time.Second, time.Millisecond)
			time.Sleep(50 * time.Millisecond) // room for an over-limit call to show up
			assert.Equal(t, tc.want, g.inFlight("conn-1"))
			assert.Equal(t, tc.want, g.count(), "the other calls wait on the client side")

			g.release()
			for _, err := range wait() {
				require.NoError(t, err)
			}
			assert.Equal(t, tc.want, g.peakOf("conn-1"))
			assert.Equal(t, 20, g.count())
		})
	}
}

func TestEachConnectionHasItsOwnLimit(t *testing.T) {
	g := newGatedServer(t)
	c := newClient(t, g.srv.URL)
	waitA := callMany(c.Connection("alice"), 10)
	waitB := callMany(c.Connection("bob"), 10)

	// Both mailboxes reach their limit at the same time: one does not eat
	// into the other's.
	require.Eventually(t, func() bool { return g.total.Load() >= 8 }, 5*time.Second, time.Millisecond)
	time.Sleep(50 * time.Millisecond)
	assert.Equal(t, 4, g.inFlight("alice"))
	assert.Equal(t, 4, g.inFlight("bob"))

	g.release()
	for _, err := range append(waitA(), waitB()...) {
		require.NoError(t, err)
	}
	assert.Equal(t, 4, g.peakOf("alice"))
	assert.Equal(t, 4, g.peakOf("bob"))
}

func TestWaitingForASlotRespectsTheContext(t *testing.T) {
	g := newGatedServer(t)
	c := newClient(t, g.srv.URL, func(c *Config) { c.MaxInFlight = 1 })
	conn := c.Connection("conn-1")
	wait := callMany(conn, 1)
	require.Eventually(t, func() bool { return g.inFlight("conn-1") == 1 }, 5*time.Second, time.Millisecond)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := conn.Do(ctx, get("/me"), nil)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), time.Second)
	assert.Equal(t, 1, g.count(), "the queued call never reached Nango")

	g.release()
	require.NoError(t, wait()[0])
}

func TestFailedCallsFreeTheirSlot(t *testing.T) {
	f := newFakeNango(t,
		reply(404, errBody("ErrorItemNotFound", "not found")),
		reply(403, errBody("ErrorAccessDenied", "denied")),
		hangUp,
		reply(200, `{}`))
	c := newClient(t, f.srv.URL, func(c *Config) { c.MaxInFlight = 1 }, noRetries)
	conn := c.Connection("conn-1")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for range 3 {
		require.Error(t, conn.Do(ctx, sendMail(), nil))
	}
	require.NoError(t, conn.Do(ctx, get("/me"), nil), "a slot leaked")
}
