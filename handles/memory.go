package handles

import (
	"context"
	"sync"
	"time"
)

// Memory is a store in this process alone: for tests, and for operators
// who want no state on disk (--state-dir none). Its handles end with the
// process.
type Memory struct {
	mu      sync.Mutex
	entries map[string]entry // scope key + handle
	swept   time.Time
	now     func() time.Time
}

type entry struct {
	id   string
	used time.Time
}

// NewMemory returns an empty in-process store.
func NewMemory() *Memory {
	return &Memory{entries: map[string]entry{}, now: time.Now}
}

// Mint implements Store.
func (m *Memory) Mint(_ context.Context, s Scope, items []Item) ([]string, error) {
	p := newPlan(s, items)
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	m.sweep(now)
	held := map[string]string{}
	for _, h := range p.order {
		e, ok := m.entries[p.scope+h]
		if ok && e.id != p.ids[h] && now.Sub(e.used) < TTL {
			held[h] = e.id
			continue
		}
		m.entries[p.scope+h] = entry{id: p.ids[h], used: now}
		held[h] = p.ids[h]
	}
	return p.result(held), nil
}

// Resolve implements Store.
func (m *Memory) Resolve(_ context.Context, s Scope, handle string) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	e, ok := m.entries[s.key()+handle]
	if !ok || now.Sub(e.used) >= TTL {
		return "", false, nil
	}
	e.used = now
	m.entries[s.key()+handle] = e
	return e.id, true, nil
}

// sweep drops expired entries, at most once an hour.
func (m *Memory) sweep(now time.Time) {
	if now.Sub(m.swept) < time.Hour {
		return
	}
	m.swept = now
	for k, e := range m.entries {
		if now.Sub(e.used) >= TTL {
			delete(m.entries, k)
		}
	}
}

// Close implements Store.
func (m *Memory) Close() error { return nil }
