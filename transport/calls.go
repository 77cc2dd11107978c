package transport

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

const (
	// callsPerCaller matches the 4 Graph requests Outlook runs at once per
	// mailbox: one caller can keep the mailbox busy, not queue ahead of
	// everyone else.
	callsPerCaller = 4
	// queuePerCaller is how many more calls a caller may have waiting.
	queuePerCaller = 8
	// DefaultShutdownGrace is how long shutdown waits for calls in flight.
	DefaultShutdownGrace = 10 * time.Second
)

const (
	msgTooMany      = "too many calls at once from this client: this call was not executed. Wait for the answers to earlier calls, then retry it."
	msgShuttingDown = "the server is shutting down: this call was not executed. Retry it once the server is back."
)

// calls is the tool handler middleware that admits calls fairly and lets
// shutdown wait for them.
//
// Each caller (CallerOf) has at most running calls executing and queue more
// waiting; a call beyond that is refused at once, unexecuted, so one
// client's flood cannot queue ahead of other clients for the mailbox.
//
// On shutdown, drain lets the calls in flight run to their answer, within a
// grace period, before the transport stops and cancels them: a send is never
// cut in half by the server going away. Meanwhile calls not yet running are
// refused, unless the input has ended (stdio), when none can come.
type calls struct {
	logger         *slog.Logger
	running, queue int

	mu       sync.Mutex // guards the fields below
	callers  map[Caller]*callerCalls
	inFlight int  // admitted calls, running or waiting
	refusing bool // draining, and refusing calls not yet running

	drainOnce sync.Once
	refuse    chan struct{}   // closed when refusing begins
	graceOver context.Context // cancelled when the grace period ends
	endGrace  context.CancelFunc
	cut       atomic.Int32 // calls cancelled by the end of the grace period
}

type callerCalls struct {
	admitted int           // running or waiting
	slots    chan struct{} // one token per running call
}

// newCalls installs the middleware on s.
func newCalls(s *server.MCPServer, logger *slog.Logger) *calls {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &calls{
		logger: logger, running: callsPerCaller, queue: queuePerCaller,
		callers: map[Caller]*callerCalls{},
		refuse:  make(chan struct{}),
	}
	c.graceOver, c.endGrace = context.WithCancel(context.Background())
	server.WithToolHandlerMiddleware(c.middleware)(s)
	return c
}

func (c *calls) middleware(next server.ToolHandlerFunc) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		who := CallerOf(ctx)
		cc, refusal := c.admit(who)
		if refusal != "" {
			// Debug: a flood would flood the log too. No caller: it may be
			// a session id.
			c.logger.DebugContext(ctx, "tool call refused", "tool", req.Params.Name, "reason", refusal)
			return mcp.NewToolResultError(refusal), nil
		}
		defer c.release(who)
		select {
		case cc.slots <- struct{}{}:
		case <-c.refuse:
			return mcp.NewToolResultError(msgShuttingDown), nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		defer func() { <-cc.slots }()
		// Every call ends with the grace period.
		ctx, cancel := context.WithCancel(ctx)
		defer context.AfterFunc(c.graceOver, func() {
			c.cut.Add(1)
			cancel()
		})()
		defer cancel()
		return next(ctx, req)
	}
}

// admit counts a call against its caller, or says why it is refused.
func (c *calls) admit(who Caller) (*callerCalls, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.refusing {
		return nil, msgShuttingDown
	}
	cc := c.callers[who]
	if cc == nil {
		cc = &callerCalls{slots: make(chan struct{}, c.running)}
		c.callers[who] = cc
	}
	if cc.admitted >= c.running+c.queue {
		return nil, msgTooMany
	}
	cc.admitted++
	c.inFlight++
	return cc, ""
}

func (c *calls) release(who Caller) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cc := c.callers[who]; cc != nil {
		if cc.admitted--; cc.admitted == 0 {
			delete(c.callers, who) // a closed session leaves nothing behind
		}
	}
	c.inFlight--
}

// drain starts the grace period, and with refuseNew refuses the calls not
// yet running; it returns once no call is in flight, or once the grace
// period has ended and the calls it cancelled have returned. It reports
// whether every call answered in time. Call it before the transport cancels
// the requests' contexts.
func (c *calls) drain(grace time.Duration, refuseNew bool) bool {
	c.drainOnce.Do(func() {
		c.mu.Lock()
		c.refusing = refuseNew
		n := c.inFlight
		c.mu.Unlock()
		if refuseNew {
			close(c.refuse)
		}
		if n > 0 {
			c.logger.Info("waiting for tool calls in flight", "calls", n, "grace", grace)
		}
		time.AfterFunc(grace, c.endGrace)
	})
	// A call read just before may not have reached the middleware yet, and
	// an answer just made may not have left (SSE queues it): nothing in
	// flight counts once it has lasted a moment.
	const settle = 50 * time.Millisecond
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	var quiet, giveUp time.Time
	for now := range tick.C {
		c.mu.Lock()
		n := c.inFlight
		c.mu.Unlock()
		switch {
		case n > 0:
			quiet = time.Time{}
		case quiet.IsZero():
			quiet = now
		case now.Sub(quiet) >= settle:
			if cut := c.cut.Load(); cut > 0 {
				c.logger.Warn("the shutdown grace period ended before some tool calls answered: they were cancelled", "calls", cut)
				return false
			}
			return true
		}
		if c.graceOver.Err() == nil {
			continue
		}
		if giveUp.IsZero() {
			giveUp = now.Add(time.Second) // a cancelled call answers at once
		} else if now.After(giveUp) {
			c.logger.Warn("tool calls still running after the shutdown grace period: stopping without their answers", "calls", n)
			return false
		}
	}
	return false
}
