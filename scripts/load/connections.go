package main

import (
	"bufio"
	"context"
	"fmt"
	"log"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// connections has n distinct users (real connections of the fake, each
// with its own mailbox) make one search_mail call each, 16 at a time, and
// reads the server's memory after every 1,000 of them.
func connections(binary, fakenango string, n int) {
	start := time.Now()
	fake := startFake(fakenango, n)
	defer fake.stop()
	fmt.Printf("fake Nango with %d connections ready in %.1f s\n\n", n, time.Since(start).Seconds())
	srv := startNangoServer(binary, fake)
	defer srv.stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	call := mcpCall(srv.base)
	time.Sleep(200 * time.Millisecond)
	idle, _ := rss(srv.cmd.Process.Pid)
	fmt.Printf("idle: RSS %.1f MiB\n\n", idle)
	fmt.Println("| connections seen | remembered | RSS MiB | peak RSS MiB | Go heap in use MiB | errors |")
	fmt.Println("|---|---|---|---|---|---|")
	var errs atomic.Int64
	var first atomic.Value
	const workers, step = 16, 1000
	for done := 0; done < n; done += step {
		next := atomic.Int64{}
		next.Store(int64(done))
		last := int64(min(done+step, n))
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for i := next.Add(1) - 1; i < last && ctx.Err() == nil; i = next.Add(1) - 1 {
					if err := call(ctx, client, int(i)); err != nil {
						errs.Add(1)
						first.CompareAndSwap(nil, err.Error())
					}
				}
			})
		}
		wg.Wait()
		if ctx.Err() != nil {
			log.Fatal("connections: out of time")
		}
		time.Sleep(500 * time.Millisecond)
		now, peak := rss(srv.cmd.Process.Pid)
		m := metrics(client, srv.base)
		fmt.Printf("| %d | %.0f | %.1f | %.1f | %.1f | %d |\n", last, m["outlook_mcp_nango_connections"], now, peak, m["go_memstats_heap_inuse_bytes"]/(1<<20), errs.Load())
	}
	if errs.Load() > 0 {
		fmt.Printf("RUN HAD ERRORS: %d; first: %.500v\n", errs.Load(), first.Load())
	}
}

// metrics reads the server's unlabelled Prometheus samples.
func metrics(client *http.Client, base string) map[string]float64 {
	req, _ := http.NewRequest(http.MethodGet, base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+secretKey)
	req.Header.Set("Connection-Id", "metrics") // --auth nango asks every request for one; /metrics uses none
	resp, err := client.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		log.Fatalf("/metrics: %s", resp.Status)
	}
	out := map[string]float64{}
	lines := bufio.NewScanner(resp.Body)
	for lines.Scan() {
		name, value, ok := strings.Cut(lines.Text(), " ")
		if ok && !strings.HasPrefix(name, "#") && !strings.Contains(name, "{") {
			out[name], _ = strconv.ParseFloat(value, 64)
		}
	}
	return out
}
