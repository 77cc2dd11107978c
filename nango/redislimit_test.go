package nango

import (
	"bytes"
	"cmp"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outlook-mcp/outlook-mcp/nango/redistest"
)

// newRedisLimits builds RedisLimits, closed at cleanup.
func newRedisLimits(t testing.TB, cfg RedisConfig) *RedisLimits {
	t.Helper()
	l, err := NewRedisLimits(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// withLimits shares the client's limits through l.
func withLimits(l Limits) func(*Config) { return func(c *Config) { c.Limits = l } }

// replica is one server instance's connection to the mailbox conn-1 of
// host: its limits in process, or shared through the Redis at redisURL.
// Unless cfg says otherwise, Redis may take 2 s to answer: a loaded test
// machine is not an outage.
func replica(t *testing.T, host, redisURL string, cfg RedisConfig) *Connection {
	t.Helper()
	var opts []func(*Config)
	if redisURL != "" {
		cfg.URL = redisURL
		cfg.Timeout = cmp.Or(cfg.Timeout, 2*time.Second)
		opts = append(opts, withLimits(newRedisLimits(t, cfg)))
	}
	return newClient(t, host, opts...).Connection("conn-1")
}

func TestRedisCapsAMailboxAcrossReplicas(t *testing.T) {
	rs := redistest.Start(t)
	tests := []struct {
		name     string
		redisURL string
		want     int
	}{
		{"in process: each replica allows 4", "", 8},
		{"through Redis: 4 across both", rs.URL(), 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := newGatedServer(t)
			waitA := callMany(replica(t, g.srv.URL, tc.redisURL, RedisConfig{}), 10)
			waitB := callMany(replica(t, g.srv.URL, tc.redisURL, RedisConfig{}), 10)

			require.Eventually(t, func() bool { return g.inFlight("conn-1") >= tc.want }, 5*time.Second, time.Millisecond)
			time.Sleep(100 * time.Millisecond) // room for an over-limit call to show up
			assert.Equal(t, tc.want, g.inFlight("conn-1"))
			assert.Equal(t, tc.want, g.count(), "the other calls wait in their replica")

			g.release()
			for _, err := range append(waitA(), waitB()...) {
				require.NoError(t, err)
			}
			assert.Equal(t, tc.want, g.peakOf("conn-1"))
			assert.Equal(t, 20, g.count())
		})
	}
	keys, err := rs.Client().Keys(context.Background(), "*").Result()
	require.NoError(t, err)
	assert.Empty(t, keys, "released leases leave nothing in Redis")
}

func TestRedisCapHoldsWhileCallsComeAndGo(t *testing.T) {
	rs := redistest.Start(t)
	var mu sync.Mutex
	current, peak := 0, 0
	f := newFakeNango(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		current++
		peak = max(peak, current)
		mu.Unlock()
		time.Sleep(30 * time.Millisecond) // a slow mailbox
		mu.Lock()
		current--
		mu.Unlock()
		reply(200, `{}`)(w, r)
	})
	var logs logBuffer
	waits := make([]func() []error, 3)
	for i := range waits {
		waits[i] = callMany(replica(t, f.srv.URL, rs.URL(), RedisConfig{Logger: logs.logger()}), 15)
	}
	for _, wait := range waits {
		for _, err := range wait() {
			require.NoError(t, err)
		}
	}
	assert.Equal(t, 45, f.count())
	assert.LessOrEqual(t, peak, 4, "three replicas, 15 calls each: never more than 4 at the mailbox")
	assert.NotContains(t, logs.String(), "level=WARN", "Redis answered throughout")
}

// TestRedisReplicaProcess is the replica that
// TestRedisLeasesOfAKilledReplicaLapse starts, then kills while it holds
// the mailbox's 4 permits in calls that never end.
func TestRedisReplicaProcess(t *testing.T) {
	host := os.Getenv("NANGO_TEST_REPLICA_HOST")
	if host == "" {
		t.Skip("the replica that TestRedisLeasesOfAKilledReplicaLapse runs in a child process")
	}
	ttl, err := time.ParseDuration(os.Getenv("NANGO_TEST_REPLICA_TTL"))
	require.NoError(t, err)
	callMany(replica(t, host, os.Getenv("NANGO_TEST_REPLICA_REDIS"), RedisConfig{LeaseTTL: ttl}), 4)
	time.Sleep(time.Hour) // until killed
}

func TestRedisLeasesOfAKilledReplicaLapse(t *testing.T) {
	rs := redistest.Start(t)
	g := newGatedServer(t)
	const ttl = 1500 * time.Millisecond
	var out bytes.Buffer
	child := exec.Command(os.Args[0], "-test.run=^TestRedisReplicaProcess$")
	child.Env = append(os.Environ(), "NANGO_TEST_REPLICA_HOST="+g.srv.URL, "NANGO_TEST_REPLICA_REDIS="+rs.URL(), "NANGO_TEST_REPLICA_TTL="+ttl.String())
	child.Stdout, child.Stderr = &out, &out
	require.NoError(t, child.Start())
	t.Cleanup(func() { _ = child.Process.Kill(); _ = child.Wait() })
	require.Eventually(t, func() bool { return g.inFlight("conn-1") == 4 }, 20*time.Second, 5*time.Millisecond,
		"the child replica's 4 calls reach Nango")

	// The child renews its leases: past their TTL, this replica still waits.
	wait := callMany(replica(t, g.srv.URL, rs.URL(), RedisConfig{LeaseTTL: ttl}), 4)
	time.Sleep(ttl + ttl/2)
	require.Equal(t, 4, g.count(), "no call of this replica reached Nango while the child held the permits")

	require.NoError(t, child.Process.Kill()) // no release, no cleanup: a crash
	_ = child.Wait()
	killed := time.Now()
	require.Eventually(t, func() bool { return g.inFlight("conn-1") == 4 && g.count() == 8 }, ttl+5*time.Second, 5*time.Millisecond,
		"this replica gets the permits once the dead replica's leases lapse; child output:\n%s", &out)
	took := time.Since(killed)
	// The last renewal was at most ttl/3 before the kill.
	assert.GreaterOrEqual(t, took, ttl/2, "the permits were freed by the leases' TTL, not by the kill")
	assert.Less(t, took, ttl+2*time.Second)

	g.release()
	for _, err := range wait() {
		require.NoError(t, err)
	}
	assert.Equal(t, 4, g.peakOf("conn-1"))
}

func TestRedisRestartedEmptyGetsTheRunningCallsLeasesBack(t *testing.T) {
	rs := redistest.Start(t)
	g := newGatedServer(t)
	cfg := RedisConfig{LeaseTTL: 300 * time.Millisecond}
	waitA := callMany(replica(t, g.srv.URL, rs.URL(), cfg), 4)
	require.Eventually(t, func() bool { return g.inFlight("conn-1") == 4 }, 5*time.Second, time.Millisecond)

	rs.Kill()
	rs.Restart() // no data
	rdb := rs.Client()
	require.Eventually(t, func() bool {
		keys, _ := rdb.Keys(context.Background(), "outlook-mcp:mailbox:*:leases").Result()
		return len(keys) == 1 && rdb.ZCard(context.Background(), keys[0]).Val() == 4
	}, 5*time.Second, 10*time.Millisecond, "the running calls renew their leases into the new Redis")

	waitB := callMany(replica(t, g.srv.URL, rs.URL(), cfg), 4)
	time.Sleep(500 * time.Millisecond)
	assert.Equal(t, 4, g.count(), "another replica still finds the mailbox full")
	g.release()
	for _, err := range append(waitA(), waitB()...) {
		require.NoError(t, err)
	}
	assert.Equal(t, 4, g.peakOf("conn-1"))
}

// logBuffer collects log lines from several goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }

func TestRedisDownKeepsCallsGoingInProcess(t *testing.T) {
	rs := redistest.Start(t)
	var logs logBuffer
	limits := newRedisLimits(t, RedisConfig{URL: rs.URL(), Timeout: 2 * time.Second, Logger: logs.logger()})
	f := newFakeNango(t)
	g := newGatedServer(t)
	conn := newClient(t, f.srv.URL, withLimits(limits)).Connection("conn-1")
	gated := newClient(t, g.srv.URL, withLimits(limits)).Connection("conn-1")
	ctx := context.Background()
	require.NoError(t, conn.Do(ctx, get("/me"), nil))

	rs.Kill()
	start := time.Now()
	for range 20 {
		require.NoError(t, conn.Do(ctx, get("/me"), nil))
	}
	assert.Less(t, time.Since(start), 2*time.Second, "calls do not wait for Redis")

	// The in-process limit still holds.
	wait := callMany(gated, 12)
	require.Eventually(t, func() bool { return g.inFlight("conn-1") == 4 }, 5*time.Second, time.Millisecond)
	time.Sleep(50 * time.Millisecond)
	assert.Equal(t, 4, g.count())
	g.release()
	for _, err := range wait() {
		require.NoError(t, err)
	}
	assert.Equal(t, 4, g.peakOf("conn-1"))
	assert.Equal(t, 1, strings.Count(logs.String(), "level=WARN"), "one warning per outage:\n%s", logs.String())
	assert.Contains(t, logs.String(), "Redis does not answer")

	// Back: the limits are shared again (Redis is tried once a second).
	rs.Restart()
	require.Eventually(t, func() bool {
		return conn.Do(ctx, get("/me"), nil) == nil && strings.Contains(logs.String(), "Redis answers again")
	}, 5*time.Second, 50*time.Millisecond)
	assert.Equal(t, 1, strings.Count(logs.String(), "level=WARN"), logs.String())
}

func TestRedisThatDoesNotAnswerCostsAtMostItsTimeout(t *testing.T) {
	// A Redis that accepts connections and never answers (hung, or a
	// firewall that drops packets).
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(io.Discard, c); _ = c.Close() }()
		}
	}()
	var logs logBuffer
	f := newFakeNango(t)
	conn := replica(t, f.srv.URL, "redis://"+l.Addr().String(), RedisConfig{Timeout: 100 * time.Millisecond, Logger: logs.logger()})
	ctx := context.Background()

	start := time.Now()
	require.NoError(t, conn.Do(ctx, get("/me"), nil))
	first := time.Since(start)
	assert.GreaterOrEqual(t, first, 100*time.Millisecond, "the first call waited for Redis")
	assert.Less(t, first, time.Second, "for its timeout, once")

	start = time.Now()
	for range 10 {
		require.NoError(t, conn.Do(ctx, get("/me"), nil))
	}
	assert.Less(t, time.Since(start), 500*time.Millisecond, "the next calls do not wait for Redis")
	assert.Equal(t, 1, strings.Count(logs.String(), "level=WARN"), logs.String())
}

func TestRedisRetryAfterPausesEveryReplica(t *testing.T) {
	rs := redistest.Start(t)
	tests := []struct {
		name     string
		redisURL string
	}{
		{"in process: only the throttled call waits", ""},
		{"through Redis: the other replica waits too", rs.URL()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeNango(t, throttledAfter("1"), okMessage)
			a := replica(t, f.srv.URL, tc.redisURL, RedisConfig{})
			b := replica(t, f.srv.URL, tc.redisURL, RedisConfig{})
			ctx := context.Background()
			doneA := make(chan error, 1)
			go func() { doneA <- a.Do(ctx, get("/me"), nil) }()
			require.Eventually(t, func() bool { return f.count() == 1 }, 5*time.Second, time.Millisecond)
			if tc.redisURL != "" {
				require.Eventually(t, func() bool { return b.limiter().Throttled(ctx) > 0 }, 5*time.Second, time.Millisecond)
			}

			start := time.Now()
			require.NoError(t, b.Do(ctx, get("/me"), nil))
			if tc.redisURL != "" {
				assert.GreaterOrEqual(t, time.Since(start), 700*time.Millisecond, "B waited out A's Retry-After: 1")
			} else {
				assert.Less(t, time.Since(start), 700*time.Millisecond, "B knew nothing of A's 429")
			}
			require.NoError(t, <-doneA)
			assert.Equal(t, 3, f.count())
		})
	}
}

func TestRedisPauseBeyondMaxWaitIsReportedWithoutCallingGraph(t *testing.T) {
	rs := redistest.Start(t)
	f := newFakeNango(t, throttledAfter("60"), okMessage)
	a := replica(t, f.srv.URL, rs.URL(), RedisConfig{})
	b := replica(t, f.srv.URL, rs.URL(), RedisConfig{})
	ctx := context.Background()

	errA := requireNangoError(t, a.Do(ctx, get("/me"), nil))
	assertKind(t, KindRateLimited, errA)
	errB := requireNangoError(t, b.Do(ctx, get("/me"), nil))
	assertKind(t, KindRateLimited, errB)
	assert.Equal(t, FromGraph, errB.Source)
	assert.InDelta(t, 60, errB.RetryAfter.Seconds(), 5, "the pause left")
	assert.Equal(t, 1, f.count(), "B did not call Graph")

	// A shorter Retry-After never shortens a pause.
	b.limiter().Throttle(ctx, time.Second)
	assert.Greater(t, b.limiter().Throttled(ctx), 50*time.Second)
}

func TestRedisKeysNameTheMailboxByHash(t *testing.T) {
	limits := newRedisLimits(t, RedisConfig{URL: "redis://127.0.0.1:1"})
	key := func(integration, connection string) string {
		return limits.Mailbox(integration, connection, 4, nil).(*redisMailbox).leases
	}
	assert.NotEqual(t, key("a", "bc"), key("ab", "c"))
	assert.NotEqual(t, key("outlook", "alice"), key("outlook-2", "alice"))
	assert.Equal(t, key("outlook", "alice"), key("outlook", "alice"))
	k := key("outlook", "alice}:{*\r\nFLUSHALL")
	assert.Regexp(t, `^outlook-mcp:mailbox:\{[0-9a-f]{32}\}:leases$`, k)
}

func TestRedisBadURLIsNotEchoed(t *testing.T) {
	for _, url := range []string{"http://user:s3cret@host:6379", "redis://user:s3cret@host:notaport", "s3cret"} {
		_, err := NewRedisLimits(RedisConfig{URL: url})
		require.Error(t, err, url)
		assert.NotContains(t, err.Error(), "s3cret")
	}
}

// BenchmarkMailboxPermit is what one Graph call attempt pays the limiter:
// the pause check, a permit and its release.
func BenchmarkMailboxPermit(b *testing.B) {
	rs := redistest.Start(b)
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		lim  func() Limiter
	}{
		{"in_process", func() Limiter { return make(localLimiter, 4) }},
		{"redis", func() Limiter {
			return newRedisLimits(b, RedisConfig{URL: rs.URL()}).Mailbox("outlook", "conn-1", 4, make(localLimiter, 4))
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			lim := bc.lim()
			for b.Loop() {
				if lim.Throttled(ctx) > 0 {
					b.Fatal("paused")
				}
				release, err := lim.Acquire(ctx)
				if err != nil {
					b.Fatal(err)
				}
				release()
			}
		})
	}
}
