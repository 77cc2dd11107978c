package main

import (
	"context"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outlook-mcp/outlook-mcp/sim"
)

// TestFloodFromOneClientDoesNotDelayAnother: one SSE client posts a flood of
// search_mail calls at once; another client's search_mail must take at most
// a small factor longer than alone. Before the per-caller limit it queued
// behind the whole flood for the mailbox's 4 concurrent Graph requests
// (2,000 calls: 59.5 s).
//
// OUTLOOK_MCP_FLOOD sets the flood's size (default 300; BENCHMARKS.md uses
// 2000) and OUTLOOK_MCP_FLOOD_LATENCY the simulated Graph latency (100ms).
func TestFloodFromOneClientDoesNotDelayAnother(t *testing.T) {
	flood, latency := 300, 100*time.Millisecond
	if v := os.Getenv("OUTLOOK_MCP_FLOOD"); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(t, err)
		flood = n
	}
	if v := os.Getenv("OUTLOOK_MCP_FLOOD_LATENCY"); v != "" {
		d, err := time.ParseDuration(v)
		require.NoError(t, err)
		latency = d
	}
	srv := startHTTPServer(t, setup{sim: func(o *sim.Options) { o.Latency = latency }}, "")
	good := connectHTTP(t, "sse", "mcp-go", srv.base, "")
	flooder := connectHTTP(t, "sse", "mcp-go", srv.base, "")
	args := map[string]any{"limit": 5}
	search := func(c mcpClient) (time.Duration, *toolResult) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		start := time.Now()
		res, err := c.callTool(ctx, "search_mail", args)
		require.NoError(t, err)
		return time.Since(start), res
	}
	median := func(d []time.Duration) time.Duration { slices.Sort(d); return d[len(d)/2] }

	search(good) // scopes fetched and cached
	var alone []time.Duration
	for range 5 {
		d, res := search(good)
		require.False(t, res.isError, res.text)
		alone = append(alone, d)
	}

	var flooded []time.Duration
	var refused, answered atomic.Int32
	for range 3 {
		var wg sync.WaitGroup
		var posted atomic.Int32
		for range flood {
			wg.Go(func() {
				posted.Add(1)
				if _, res := search(flooder); res.isError {
					assert.Contains(t, res.text, "too many calls at once from this client")
					refused.Add(1)
				} else {
					answered.Add(1)
				}
			})
		}
		// Measure once the flood is in: every call posted, the mailbox busy.
		require.Eventually(t, func() bool { return int(posted.Load()) == flood && srv.sim.MaxInFlight() >= 4 },
			time.Minute, time.Millisecond)
		time.Sleep(latency / 2)
		d, res := search(good)
		require.False(t, res.isError, "the well-behaved client is never refused: %s", res.text)
		flooded = append(flooded, d)
		wg.Wait()
	}
	ratio := float64(median(flooded)) / float64(median(alone))
	t.Logf("flood of %d calls x3, Graph latency %v: search_mail alone %v (median of 5), while flooded %v (median of 3): ratio %.2f; flood calls answered %d, refused at once %d",
		flood, latency, median(alone).Round(time.Millisecond), median(flooded).Round(time.Millisecond), ratio, answered.Load(), refused.Load())
	assert.LessOrEqual(t, ratio, 3.0, "latency while another client floods / latency alone")
}
