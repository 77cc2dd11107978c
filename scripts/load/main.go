// Command load measures the HTTP server under load, against the built
// binary and a simulated Nango on loopback ports (nothing leaves the
// machine), and prints figures for BENCHMARKS.md:
//
//	go build -o /tmp/outlook-mcp . && go run ./scripts/load -binary /tmp/outlook-mcp sessions
//
// sessions: RSS of the server with N idle SSE sessions open (-n, default 1000).
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
	flag.Parse()
	if *binary == "" || flag.NArg() != 1 {
		log.Fatal("usage: load -binary PATH sessions")
	}
	switch flag.Arg(0) {
	case "sessions":
		sessions(*binary, *n)
	default:
		log.Fatalf("unknown measurement %q", flag.Arg(0))
	}
}

// server is the binary listening on a free loopback port.
type server struct {
	cmd  *exec.Cmd
	base string
}

func start(binary string, env []string, args ...string) *server {
	cmd := exec.Command(binary, append([]string{"--transport", "http", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		log.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	listening := regexp.MustCompile(`msg=listening addr=(\S+)`)
	lines := bufio.NewScanner(stderr)
	for lines.Scan() {
		if m := listening.FindStringSubmatch(lines.Text()); m != nil {
			go func() {
				for lines.Scan() { // keep the pipe drained
				}
			}()
			return &server{cmd: cmd, base: "http://" + m[1]}
		}
	}
	log.Fatal("the server exited before listening")
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
