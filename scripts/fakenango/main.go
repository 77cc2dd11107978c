// Command fakenango serves the simulated Nango + Outlook mailbox (sim/) on a
// loopback port, so the real server can be measured or tried against it
// over HTTP exactly as against Nango:
//
//	go run ./scripts/fakenango -addr 127.0.0.1:3003 &
//	NANGO_HOST=http://127.0.0.1:3003 NANGO_SECRET_KEY=<printed key> NANGO_CONNECTION_ID=sandbox outlook-mcp
package main

import (
	"flag"
	"log"
	"net"
	"net/http"
	"os"

	"github.com/outlook-mcp/outlook-mcp/sim"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:3003", "loopback address to listen on")
	fixture := flag.String("fixture", "testdata/mailbox.json", "sample mailbox")
	latency := flag.Duration("latency", 0, "added to every Graph request, as a real mailbox's 100-300 ms")
	flag.Parse()
	if host, _, err := net.SplitHostPort(*addr); err != nil || !net.ParseIP(host).IsLoopback() {
		log.Fatalf("-addr must be a loopback host:port, not %q", *addr)
	}
	data, err := os.ReadFile(*fixture)
	if err != nil {
		log.Fatal(err)
	}
	s, err := sim.New(data, sim.Options{Latency: *latency})
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", *addr) // port 0 picks a free one, printed below
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("fake Nango on http://%s, secret key %s, connection %q, integration %q", ln.Addr(), sim.DefaultSecretKey, "sandbox", "outlook")
	log.Fatal(http.Serve(ln, s))
}
