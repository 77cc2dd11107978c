package tools

import (
	"sync"
	"time"
)

// lookups are what the server remembers of each connection between calls:
// facts a call needs beside its own request that seldom change. Each is
// looked up once per connection and server (see aside), not once per call.
type lookups struct {
	junk  memo[string]   // the Junk Email folder's id (mail.go)
	zones memo[userZone] // the user's time zone (userzone.go)
	me    memo[string]   // the user's own address (profile.go)
}

// memos are the server's lookups; a Call made without a server (in a unit
// test) gets empty ones that remember nothing beyond it.
func (c *Call) memos() *lookups {
	if c.lookups == nil {
		c.lookups = &lookups{}
	}
	return c.lookups
}

// memo remembers one value per connection, each for as long as its
// lookup said; calls that need a value being looked up wait for that
// lookup rather than start their own.
type memo[T any] struct {
	mu  sync.Mutex
	m   map[string]*memoEntry[T]
	now func() time.Time // nil: time.Now; tests move it
}

type memoEntry[T any] struct {
	ready chan struct{} // closed once v is known
	v     T
	until time.Time // zero: for good (once ready)
}

// maxMemo bounds each memo: past it, all its values are forgotten at once
// and looked up again as they are needed.
const maxMemo = 10_000

func (m *memo[T]) clock() time.Time {
	if m.now != nil {
		return m.now()
	}
	return time.Now()
}

// claim is the key's entry, known or being looked up; or a new one, which
// the caller must settle (fetch is then true).
func (m *memo[T]) claim(key string) (e *memoEntry[T], fetch bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.m[key]; e != nil {
		select {
		case <-e.ready:
			if e.until.IsZero() || m.clock().Before(e.until) {
				return e, false
			}
		default:
			return e, false // being looked up
		}
	}
	if m.m == nil || len(m.m) >= maxMemo {
		m.m = map[string]*memoEntry[T]{}
	}
	e = &memoEntry[T]{ready: make(chan struct{})}
	m.m[key] = e
	return e, true
}

// settle gives a claimed entry its value, kept for keep (0: for good;
// less: only for the calls already waiting).
func (m *memo[T]) settle(key string, e *memoEntry[T], v T, keep time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e.v = v
	switch {
	case keep < 0:
		if m.m[key] == e {
			delete(m.m, key)
		}
	case keep > 0:
		e.until = m.clock().Add(keep)
	}
	close(e.ready)
}

// aside gives the connection's value from m, or starts fetching it beside
// the call's own request; fetch also says how long to keep what it found
// (see settle). The function returned waits for the value: call it even
// when the call's own request failed, so that no request outlives its call.
func aside[T any](c *Call, m *memo[T], fetch func() (T, time.Duration)) func() T {
	key := c.Conn.IntegrationID() + "/" + c.Conn.ID()
	e, mine := m.claim(key)
	if mine {
		go func() {
			v, keep := fetch()
			m.settle(key, e, v, keep)
		}()
	}
	return func() T {
		<-e.ready
		return e.v
	}
}
