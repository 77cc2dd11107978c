package nango

import (
	"context"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisConfig configures NewRedisLimits.
type RedisConfig struct {
	URL      string        // redis://[user:password@]host:port[/db], rediss://, unix://
	LeaseTTL time.Duration // a permit's lease, renewed every third of it while its call runs; default 15s
	Timeout  time.Duration // longest wait for one Redis answer (and to connect); default 250ms
	Logger   *slog.Logger
}

// RedisLimits shares every mailbox's limits among the replicas that use the
// same Redis: at most MaxInFlight Graph calls in flight across all of them,
// and a 429's Retry-After pausing all of them.
//
// A permit is a lease: a member of the mailbox's sorted set of leases,
// scored by its expiry on Redis's clock, renewed while its call runs. A
// replica that dies mid-call stops renewing, and its leases lapse within
// LeaseTTL. Each replica also applies its in-process limit, so while Redis
// cannot be reached the calls go on under that limit alone (one warning per
// outage); Redis never fails a call.
type RedisLimits struct {
	rdb     *redis.Client
	ttl     time.Duration
	timeout time.Duration
	log     *slog.Logger
	owner   string // this process, in its lease ids
	leases  atomic.Uint64

	mu      sync.Mutex
	down    bool      // the last Redis call failed
	retryAt time.Time // while down: when to try Redis again
}

// Redis data, per mailbox (the hash of integration and connection id, so
// user data never shapes a key; the braces keep both keys in one cluster
// slot):
//
//	outlook-mcp:mailbox:{<hash>}:leases     sorted set: lease id -> expiry (ms, Redis TIME)
//	outlook-mcp:mailbox:{<hash>}:throttled  a string whose TTL is the pause left
//
// Every lease of a set lapses by its TTL, so the set's own expiry is its
// latest lease's: a mailbox left alone leaves nothing behind. Expiries are
// on Redis's clock (TIME): leases do not depend on the replicas' clocks.
var (
	// leaseLua takes or renews lease ARGV[1] of the mailbox for ARGV[3] ms:
	// it drops lapsed leases, then extends ARGV[1] if it is still there, or
	// adds it if fewer than ARGV[2] remain (a new permit, or one that lapsed
	// while Redis was away or restarted). 1: held; 0: the mailbox is full.
	leaseLua = redis.NewScript(`local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], last[2])
return 1`)

	// throttleLua pauses the mailbox for ARGV[1] ms, never shortening a
	// longer pause.
	throttleLua = redis.NewScript(`if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
end
return 0`)
)

const (
	pollFirst = 2 * time.Millisecond  // first wait for a permit of a full mailbox
	pollMax   = 50 * time.Millisecond // longest wait between two tries
	downRetry = time.Second           // during an outage, how often Redis is tried again
)

// NewRedisLimits checks the URL without connecting: Redis is first reached
// by a Graph call, and not reaching it only keeps the limits in process.
func NewRedisLimits(cfg RedisConfig) (*RedisLimits, error) {
	opts, err := redis.ParseURL(cfg.URL)
	if err != nil {
		return nil, errors.New("the Redis URL is not redis://host:port[/db], rediss://… or unix://…") // the URL may hold a password: not echoed
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = 15 * time.Second
	}
	cfg.LeaseTTL = max(cfg.LeaseTTL, 30*time.Millisecond) // renewed every third: a ticker needs > 0
	if cfg.Timeout <= 0 {
		cfg.Timeout = 250 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	// One try per operation, each bounded by Timeout. Once one fails, Redis
	// is left alone for downRetry: calls of an outage pay at most that.
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout, opts.PoolTimeout = cfg.Timeout, cfg.Timeout, cfg.Timeout, cfg.Timeout
	opts.DialerRetries, opts.MaxRetries = 1, -1
	opts.ContextTimeoutEnabled = true
	quietRedis.Do(func() { redis.SetLogger(voidLogger{}) })
	var id [8]byte
	_, _ = crand.Read(id[:])
	return &RedisLimits{rdb: redis.NewClient(opts), ttl: cfg.LeaseTTL, timeout: cfg.Timeout, log: cfg.Logger, owner: hex.EncodeToString(id[:])}, nil
}

// quietRedis keeps go-redis from writing to stderr on every failed dial:
// an outage is logged once, by RedisLimits.try.
var quietRedis sync.Once

type voidLogger struct{}

func (voidLogger) Printf(context.Context, string, ...any) {}

// Client is the Redis client, for other state the replicas share (the
// short ids of package handles): one configuration, one pool.
func (r *RedisLimits) Client() *redis.Client { return r.rdb }

// Close closes the connections to Redis. Leases still held lapse by their TTL.
func (r *RedisLimits) Close() error { return r.rdb.Close() }

// Mailbox implements Limits.
func (r *RedisLimits) Mailbox(integration, connection string, maxInFlight int, local Limiter) Limiter {
	sum := sha256.Sum256([]byte(strconv.Itoa(len(integration)) + ":" + integration + connection))
	key := "outlook-mcp:mailbox:{" + hex.EncodeToString(sum[:16]) + "}"
	return &redisMailbox{r: r, leases: key + ":leases", throttled: key + ":throttled", maxInFlight: maxInFlight, local: local}
}

type redisMailbox struct {
	r                 *RedisLimits
	leases, throttled string
	maxInFlight       int
	local             Limiter
}

// Acquire takes the in-process permit, then a lease. While the mailbox is
// full it tries again after a growing, jittered wait; each process has at
// most maxInFlight such waiters per mailbox, the others wait for the local
// permit.
func (m *redisMailbox) Acquire(ctx context.Context) (func(), error) {
	release, err := m.local.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	lease := m.r.owner + ":" + strconv.FormatUint(m.r.leases.Add(1), 36)
	ttl := strconv.FormatInt(m.r.ttl.Milliseconds(), 10)
	for wait := pollFirst; ; wait = min(2*wait, pollMax) {
		held, ok := m.lease(ctx, lease, ttl)
		if ctx.Err() != nil {
			release()
			return nil, ctx.Err()
		}
		if !ok {
			return release, nil // the in-process permit alone
		}
		if held {
			stop := m.renew(lease, ttl)
			return func() {
				stop()
				m.r.try(context.Background(), func(ctx context.Context) error {
					return m.r.rdb.ZRem(ctx, m.leases, lease).Err()
				})
				release()
			}, nil
		}
		if err := sleep(ctx, wait/2+rand.N(wait/2+1)); err != nil {
			release()
			return nil, err
		}
	}
}

// lease takes or renews a lease (leaseLua); ok is false when Redis did not answer.
func (m *redisMailbox) lease(ctx context.Context, lease, ttl string) (held, ok bool) {
	var n int64
	ok = m.r.try(ctx, func(ctx context.Context) (err error) {
		n, err = leaseLua.Run(ctx, m.r.rdb, []string{m.leases}, lease, m.maxInFlight, ttl).Int64()
		return err
	})
	return n == 1, ok
}

// renew extends the lease every third of its TTL until stop is called;
// stop returns once renewing has stopped, so a release cannot be followed
// by a renewal.
func (m *redisMailbox) renew(lease, ttl string) (stop func()) {
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(m.r.ttl / 3)
		defer tick.Stop()
		warned := false
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			if held, ok := m.lease(context.Background(), lease, ttl); ok && !held && !warned {
				// The lease lapsed (Redis away longer than the TTL, or this
				// process stalled) and other calls took the places.
				m.r.log.Warn("a Graph call lost its Redis lease: the mailbox may see more calls at once than allowed until it ends")
				warned = true
			}
		}
	}()
	return func() { close(done); <-stopped }
}

func (m *redisMailbox) Throttle(ctx context.Context, d time.Duration) {
	m.r.try(context.WithoutCancel(ctx), func(ctx context.Context) error {
		return throttleLua.Run(ctx, m.r.rdb, []string{m.throttled}, d.Milliseconds()).Err()
	})
}

func (m *redisMailbox) Throttled(ctx context.Context) time.Duration {
	var left time.Duration
	m.r.try(ctx, func(ctx context.Context) (err error) {
		left, err = m.r.rdb.PTTL(ctx, m.throttled).Result()
		return err
	})
	return max(left, 0) // PTTL's -2: no pause, -1 cannot happen
}

// try runs op against Redis within Timeout unless Redis is known to be
// down, and reports whether it answered. The first failure of an outage is
// logged; until Redis answers again it is tried once per downRetry.
func (r *RedisLimits) try(ctx context.Context, op func(context.Context) error) bool {
	r.mu.Lock()
	skip := r.down && time.Now().Before(r.retryAt)
	r.mu.Unlock()
	if skip {
		return false
	}
	opCtx, cancel := context.WithTimeout(ctx, r.timeout)
	err := op(opCtx)
	cancel()
	if err != nil && ctx.Err() != nil {
		return false // the caller gave up: says nothing about Redis
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.retryAt = time.Now().Add(downRetry)
		if !r.down {
			r.down = true
			r.log.Warn("Redis does not answer: per-mailbox limits are kept in this process until it does", "err", err)
		}
		return false
	}
	if r.down {
		r.down = false
		r.log.Info("Redis answers again: per-mailbox limits are shared again")
	}
	return true
}
