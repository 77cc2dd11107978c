package nango

import (
	"context"
	"time"
)

// Limiter applies Graph's throttling rules to one mailbox: at most
// MaxInFlight calls at once (Outlook allows 4 per mailbox and app), and a
// pause once Graph answered 429 with a Retry-After.
type Limiter interface {
	// Acquire waits, within ctx, for a permit to make one Graph call.
	// The caller calls release exactly once, when the call has its answer.
	Acquire(ctx context.Context) (release func(), err error)
	// Throttle notes that Graph asked to wait d before the mailbox's next call.
	Throttle(ctx context.Context, d time.Duration)
	// Throttled is how long the mailbox's calls must still wait (0: none).
	Throttled(ctx context.Context) time.Duration
}

// Limits hands out the Limiter of each mailbox when the limits are shared
// with other processes (RedisLimits). Config.Limits nil keeps them in this
// process, each Connection with its own.
type Limits interface {
	// Mailbox is the limiter of one connection of an integration, allowing
	// maxInFlight calls at once across all processes. local is the
	// connection's in-process limiter, to apply as well and to fall back on.
	Mailbox(integration, connection string, maxInFlight int, local Limiter) Limiter
}

// localLimiter keeps a mailbox's limits in this process: one buffered slot
// per call in flight. A Retry-After is waited by the call that got it (Do);
// it does not pause the mailbox's other calls.
type localLimiter chan struct{}

func (l localLimiter) Acquire(ctx context.Context) (func(), error) {
	select {
	case l <- struct{}{}:
		return func() { <-l }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (localLimiter) Throttle(context.Context, time.Duration) {}

func (localLimiter) Throttled(context.Context) time.Duration { return 0 }

// sleep waits d, or less if ctx ends first.
func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
