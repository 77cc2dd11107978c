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
}

// memos are the server's lookups; a Call made without a server (in a unit
// test) gets empty ones that remember nothing beyond it.
func (c *Call) memos() *lookups {
	if c.lookups == nil {
		c.lookups = &lookups{}
	}
	return c.lookups
}

// memo remembers one value per connection, each for as long as put was told.
type memo[T any] struct {
	mu  sync.Mutex
	m   map[string]memoEntry[T]
	now func() time.Time // nil: time.Now; tests move it
}

type memoEntry[T any] struct {
	v     T
	until time.Time // zero: for good
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

func (m *memo[T]) get(key string) (T, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.m[key]
	if ok && !e.until.IsZero() && !m.clock().Before(e.until) {
		delete(m.m, key)
		ok = false
	}
	return e.v, ok
}

// put keeps v for keep (0: for good; less: not at all).
func (m *memo[T]) put(key string, v T, keep time.Duration) {
	if keep < 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil || len(m.m) >= maxMemo {
		m.m = map[string]memoEntry[T]{}
	}
	e := memoEntry[T]{v: v}
	if keep > 0 {
		e.until = m.clock().Add(keep)
	}
	m.m[key] = e
}

// aside gives the connection's value from m, or starts fetching it beside
// the call's own request; fetch also says how long to keep what it found
// (see put). The function returned waits for the value: call it even when
// the call's own request failed, so that no request outlives its call.
func aside[T any](c *Call, m *memo[T], fetch func() (T, time.Duration)) func() T {
	key := c.Conn.IntegrationID() + "/" + c.Conn.ID()
	if v, ok := m.get(key); ok {
		return func() T { return v }
	}
	found := make(chan T, 1)
	go func() {
		v, keep := fetch()
		m.put(key, v, keep)
		found <- v
	}()
	return sync.OnceValue(func() T { return <-found })
}
