package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// secretKey is the fake Nango's (sim.DefaultSecretKey).
const secretKey = "7d3f2c1a-9b4e-4f6a-8c2d-5e1b0a9f3c74"

// searchMail is the tool call every client makes, as in BenchmarkSearchMailTool.
const searchMail = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"search_mail","arguments":{"limit":10}}}`

func startFake(fakenango string, users int) *server {
	// fakenango reads testdata/mailbox.json relative to the repository.
	return launch(exec.Command(fakenango, "-addr", "127.0.0.1:0", "-users", strconv.Itoa(users)), `fake Nango on http://(\S+),`)
}

func startNangoServer(binary string, nango *server) *server {
	return start(binary, []string{"NANGO_HOST=" + nango.base, "NANGO_SECRET_KEY=" + secretKey}, "--auth", "nango")
}

// user is the connection id of client i, as fakenango -users names them,
// and mark the subject prefix of that user's mail (sim.User.SubjectPrefix).
func user(i int) (id, mark string) {
	return fmt.Sprintf("user-%d", i+1), fmt.Sprintf("[User %d]", i+1)
}

// call is one request of client i: nil when it succeeded, else what went wrong.
type call func(ctx context.Context, client *http.Client, i int) error

// toolError is a call the server answered with a tool error.
type toolError struct{ body []byte }

func (e toolError) Error() string { return "tool error: " + string(e.body) }

func mcpCall(base string) call {
	return func(ctx context.Context, client *http.Client, i int) error {
		id, mark := user(i)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/mcp", strings.NewReader(searchMail))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Authorization", "Bearer "+secretKey)
		req.Header.Set("Connection-Id", id)
		body, err := do(client, req)
		switch {
		case err != nil:
			return err
		case bytes.Contains(body, []byte(`"isError":true`)):
			return toolError{body}
		case !bytes.Contains(body, []byte(`"structuredContent"`)) || !bytes.Contains(body, []byte(mark)):
			return fmt.Errorf("not %s's mail: %.300s", id, body)
		}
		return nil
	}
}

// graphCall sends the Graph request search_mail makes (recorded from the
// server) straight to base: the fake Nango or a proxy in front of it.
func graphCall(base, uri string, header http.Header) call {
	return func(ctx context.Context, client *http.Client, i int) error {
		id, mark := user(i)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+uri, nil)
		for k, v := range header {
			req.Header[k] = v
		}
		req.Header.Set("Connection-Id", id)
		body, err := do(client, req)
		switch {
		case err != nil:
			return err
		case !bytes.Contains(body, []byte(mark)):
			return fmt.Errorf("not %s's mail: %.300s", id, body)
		}
		return nil
	}
}

func do(client *http.Client, req *http.Request) ([]byte, error) {
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("%s: %.300s", resp.Status, body)
	}
	return body, err
}

// recordGraphRequest makes one search_mail call through a server whose
// Nango is a recording proxy in front of the fake, and returns the Graph
// request it made (path and query, headers).
func recordGraphRequest(binary string, fake *server) (string, http.Header) {
	target, _ := url.Parse(fake.base)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var mu sync.Mutex
	var uri string
	var header http.Header
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/proxy/") {
			mu.Lock()
			uri, header = r.URL.RequestURI(), r.Header.Clone()
			mu.Unlock()
		}
		proxy.ServeHTTP(w, r)
	}))
	srv := startNangoServer(binary, &server{base: "http://" + ln.Addr().String()})
	defer srv.stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := mcpCall(srv.base)(ctx, http.DefaultClient, 0); err != nil {
		log.Fatalf("recording search_mail's Graph request: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if uri == "" {
		log.Fatal("search_mail made no Graph request")
	}
	for _, k := range []string{"Accept-Encoding", "User-Agent", "Content-Length"} {
		header.Del(k) // the client's own
	}
	return uri, header
}

// reverseProxy is the bare two-hop limit: httputil.ReverseProxy on a free
// loopback port in front of target, in a process of its own as the server is.
func reverseProxy(target string) {
	u, err := url.Parse(target)
	if err != nil || !isLoopback(u.Hostname()) {
		log.Fatalf("reverse-proxy: %q is not a loopback URL", target)
	}
	p := httputil.NewSingleHostReverseProxy(u)
	p.Transport = &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: time.Minute}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("reverse proxy on http://%s", ln.Addr())
	log.Fatal(http.Serve(ln, p))
}

func isLoopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

func startReverseProxy(target *server) *server {
	self, err := os.Executable()
	if err != nil {
		log.Fatal(err)
	}
	return launch(exec.Command(self, "reverse-proxy", target.base), `reverse proxy on http://(\S+)`)
}

// result is one phase's figures.
type result struct {
	name                 string
	calls, errs, toolErs int
	firstErr             error
	perSec, p50, p99     float64 // calls/s, ms
	cpu                  []float64
}

// measure runs n clients, client i as user i, each making one call after
// another: 1 s of warm-up, then d measured. cpu are the processes whose CPU
// time is counted over the measured window (0 is this one).
func measure(name string, n int, d time.Duration, c call, pids ...int) result {
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: 2 * n, MaxIdleConnsPerHost: 2 * n, IdleConnTimeout: time.Minute, DisableCompression: true}}
	defer client.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), d+30*time.Second)
	defer cancel()
	begin := time.Now().Add(time.Second)
	end := begin.Add(d)
	res := result{name: name}
	var mu sync.Mutex
	var lat []time.Duration
	var cpuBefore []float64
	var measuring sync.WaitGroup
	measuring.Add(1)
	go func() { // CPU counters at the start of the measured window
		time.Sleep(time.Until(begin))
		cpuBefore = cpuSeconds(pids)
		measuring.Done()
	}()
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var mine []time.Duration
			calls, errs, toolErrs := 0, 0, 0
			var first error
			for {
				t := time.Now()
				if t.After(end) {
					break
				}
				err := c(ctx, client, i)
				if t.Before(begin) {
					continue // warm-up
				}
				calls++
				switch err.(type) {
				case nil:
					mine = append(mine, time.Since(t))
				case toolError:
					toolErrs++
				default:
					errs++
				}
				if err != nil && first == nil {
					first = err
				}
			}
			mu.Lock()
			defer mu.Unlock()
			lat = append(lat, mine...)
			res.calls += calls
			res.errs += errs
			res.toolErs += toolErrs
			if res.firstErr == nil {
				res.firstErr = first
			}
		})
	}
	wg.Wait()
	measuring.Wait()
	after := cpuSeconds(pids)
	for k := range after {
		res.cpu = append(res.cpu, after[k]-cpuBefore[k])
	}
	slices.Sort(lat)
	res.perSec = float64(res.calls) / d.Seconds()
	if len(lat) > 0 {
		res.p50 = ms(lat[len(lat)/2])
		res.p99 = ms(lat[len(lat)*99/100])
	}
	return res
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// cpuSeconds is the user+system CPU time of each process so far (0: this one).
func cpuSeconds(pids []int) []float64 {
	out := make([]float64, len(pids))
	for k, pid := range pids {
		path := "/proc/self/stat"
		if pid != 0 {
			path = fmt.Sprintf("/proc/%d/stat", pid)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			log.Fatalf("reading CPU time (Linux only): %v", err)
		}
		// Fields after the command's ")": state is the 3rd, utime the 14th, stime the 15th.
		f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
		utime, _ := strconv.ParseFloat(f[11], 64)
		stime, _ := strconv.ParseFloat(f[12], 64)
		out[k] = (utime + stime) / 100 // USER_HZ
	}
	return out
}

func calls(binary, fakenango string, n, rounds int, d time.Duration) {
	fake := startFake(fakenango, n)
	defer fake.stop()
	uri, header := recordGraphRequest(binary, fake)
	srv := startNangoServer(binary, fake)
	defer srv.stop()
	proxy := startReverseProxy(fake)
	defer proxy.stop()
	fmt.Printf("%d clients as %d users, %d rounds of 3 phases of %s, %d cores; Graph request: GET %s\n\n", n, n, rounds, d, runtime.NumCPU(), strings.SplitN(uri, "?", 2)[0])
	fmt.Println("| round | path | calls/s | p50 ms | p99 ms | errors | tool errors | CPU ms per call: load, middle, fake, all |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	var ratios [3][]float64 // server/direct, server/proxy, and by CPU per call: direct/server
	var failed []result
	for round := 1; round <= rounds; round++ {
		results := []result{
			measure("server (search_mail over /mcp)", n, d, mcpCall(srv.base), 0, srv.cmd.Process.Pid, fake.cmd.Process.Pid),
			measure("direct to the fake", n, d, graphCall(fake.base, uri, header), 0, 0, fake.cmd.Process.Pid),
			measure("through a bare reverse proxy", n, d, graphCall(proxy.base, uri, header), 0, proxy.cmd.Process.Pid, fake.cmd.Process.Pid),
		}
		var all []float64
		for _, r := range results {
			per := func(k int) float64 { return r.cpu[k] * 1000 / float64(r.calls) }
			middle, total := "-", per(0)+per(2)
			if r.name != "direct to the fake" {
				middle, total = fmt.Sprintf("%.3f", per(1)), total+per(1)
			}
			all = append(all, total)
			fmt.Printf("| %d | %s | %.0f | %.2f | %.2f | %d | %d | %.3f, %s, %.3f, %.3f |\n", round, r.name, r.perSec, r.p50, r.p99, r.errs, r.toolErs,
				per(0), middle, per(2), total)
			if r.errs+r.toolErs > 0 {
				failed = append(failed, r)
			}
		}
		ratios[0] = append(ratios[0], results[0].perSec/results[1].perSec)
		ratios[1] = append(ratios[1], results[0].perSec/results[2].perSec)
		ratios[2] = append(ratios[2], all[1]/all[0])
	}
	fmt.Println()
	for k, name := range []string{"server/direct (calls/s)", "server/proxy (calls/s)", "server/direct (CPU per call, all processes: direct's / server's)"} {
		fmt.Printf("%s: median %.2f× of %s\n", name, median(ratios[k]), format(ratios[k]))
	}
	for _, r := range failed {
		fmt.Printf("RUN HAD ERRORS: %s: %d errors, %d tool errors; first: %.500v\n", r.name, r.errs, r.toolErs, r.firstErr)
	}
}

func median(v []float64) float64 {
	v = slices.Sorted(slices.Values(v))
	return v[len(v)/2]
}

func format(v []float64) string {
	var parts []string
	for _, x := range v {
		parts = append(parts, fmt.Sprintf("%.2f", x))
	}
	return strings.Join(parts, ", ")
}
