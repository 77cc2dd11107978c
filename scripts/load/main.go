// Command load measures the HTTP server under load, against the built
// binary and a simulated Nango on loopback ports (nothing leaves the
// machine), and prints figures for BENCHMARKS.md:
//
//	go build -o /tmp/outlook-mcp . && go build -o /tmp/fakenango ./scripts/fakenango
//	go run ./scripts/load -binary /tmp/outlook-mcp sessions
//	go run ./scripts/load -binary /tmp/outlook-mcp -fakenango /tmp/fakenango calls
//	go run ./scripts/load -binary /tmp/outlook-mcp -fakenango /tmp/fakenango connections
//
// sessions: RSS of the server with N idle SSE sessions open (-n, default 1000).
//
// calls: search_mail calls/s over streamable HTTP (--auth nango), -clients
// concurrent clients each as its own user (connection-id), against a
// zero-latency fake Nango with that many connections; next to it, in the
// same run, the same Graph request sent straight to the fake (the limit)
// and through a bare reverse proxy (the two-hop limit), in a process of its
// own as the server is. The three phases alternate for -rounds rounds of
// -duration each, so that other work on the machine weighs on all three;
// each row gives the CPU time every process spent per call. Every process
// is started here and stopped at the end.
//
// connections: the server's RSS, remembered connections and heap after
// every 1,000 of -connections distinct users (real connections of the fake,
// each with its own mailbox) made one call each.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

func main() {
	binary := flag.String("binary", "", "the built outlook-mcp binary")
	n := flag.Int("n", 1000, "sessions: how many idle SSE sessions")
	fake := flag.String("fakenango", "", "calls, connections: the built scripts/fakenango binary")
	clients := flag.Int("clients", 64, "calls: concurrent clients, each a user of its own")
	duration := flag.Duration("duration", 5*time.Second, "calls: how long each phase measures (after a 1 s warm-up)")
	rounds := flag.Int("rounds", 3, "calls: rounds of the three phases, alternated so that other work on the machine weighs on each")
	conns := flag.Int("connections", 10000, "connections: how many distinct connections call once each")
	flag.Parse()
	if flag.NArg() == 2 && flag.Arg(0) == "reverse-proxy" { // started by calls
		reverseProxy(flag.Arg(1))
		return
	}
	if *binary == "" || flag.NArg() != 1 {
		log.Fatal("usage: load -binary PATH [-fakenango PATH] sessions|calls|connections")
	}
	if flag.Arg(0) != "sessions" && *fake == "" {
		log.Fatal("-fakenango PATH is needed: go build -o /tmp/fakenango ./scripts/fakenango")
	}
	switch flag.Arg(0) {
	case "sessions":
		sessions(*binary, *n)
	case "calls":
		calls(*binary, *fake, *clients, min(max(*rounds, 1), 10), min(*duration, time.Minute))
	case "connections":
		connections(*binary, *fake, min(*conns, 20000))
	default:
		log.Fatalf("unknown measurement %q", flag.Arg(0))
	}
}

// server is a process listening on a free loopback port: the binary, the
// fake Nango or the reverse proxy.
type server struct {
	cmd  *exec.Cmd
	base string
}

func start(binary string, env []string, args ...string) *server {
	cmd := exec.Command(binary, append([]string{"--transport", "http", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	return launch(cmd, `msg=listening addr=(\S+)`)
}

// launch starts cmd and waits for the line of its stderr that names the
// address it listens on (the pattern's group).
func launch(cmd *exec.Cmd, pattern string) *server {
	dieWithThisProcess(cmd)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		log.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	listening := regexp.MustCompile(pattern)
	lines := bufio.NewScanner(stderr)
	lines.Buffer(nil, 1<<20)
	for lines.Scan() {
		if m := listening.FindStringSubmatch(lines.Text()); m != nil {
			go func() {
				for lines.Scan() { // keep the pipe drained (the audit log)
				}
			}()
			return &server{cmd: cmd, base: "http://" + m[1]}
		}
	}
	log.Fatalf("%s exited before listening", cmd.Path)
	return nil
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
	}
}

// rss is the process's resident and peak memory in MiB (Linux).
func rss(pid int) (now, peak float64) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		log.Fatalf("reading memory (Linux only): %v", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		k, v, _ := strings.Cut(line, ":")
		kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
		switch k {
		case "VmRSS":
			now = kb / 1024
		case "VmHWM":
			peak = kb / 1024
		}
	}
	return now, peak
}

func sessions(binary string, n int) {
	srv := start(binary, nil, "--sandbox", "--max-sessions", strconv.Itoa(n+10))
	defer srv.stop()
	time.Sleep(200 * time.Millisecond)
	before, _ := rss(srv.cmd.Process.Pid)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: n}}
	for i := range n {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.base+"/sse", nil)
		resp, err := client.Do(req)
		if err != nil {
			log.Fatalf("session %d: %v", i, err)
		}
		if resp.StatusCode != http.StatusOK {
			log.Fatalf("session %d: %s", i, resp.Status)
		}
		r := bufio.NewReader(resp.Body)
		if _, err := r.ReadString('\n'); err != nil { // "event: endpoint"
			log.Fatalf("session %d: %v", i, err)
		}
		// Left open, unread: an idle session.
	}
	time.Sleep(time.Second)
	after, peak := rss(srv.cmd.Process.Pid)
	fmt.Printf("%d idle SSE sessions: RSS %.1f MiB before, %.1f MiB with them open (peak %.1f): %.1f MiB per 1,000 sessions\n",
		n, before, after, peak, (after-before)*1000/float64(n))
}
