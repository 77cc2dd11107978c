// Command fakenango serves the simulated Nango + Outlook mailbox (sim/) on a
// loopback port, so the real server can be measured or tried against it
// over HTTP exactly as against Nango:
//
//	go run ./scripts/fakenango -addr 127.0.0.1:3003 &
//	NANGO_HOST=http://127.0.0.1:3003 NANGO_SECRET_KEY=<printed key> NANGO_CONNECTION_ID=sandbox outlook-mcp
//
// -users N adds N more connections, user-1 … user-N, each with a mailbox of
// its own, for a server in --auth nango mode (scripts/load calls).
package main

import (
	"flag"
	"fmt"
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
	users := flag.Int("users", 0, "more connections, user-1 … user-N, each with its own mailbox")
	flag.Parse()
	if host, _, err := net.SplitHostPort(*addr); err != nil || !net.ParseIP(host).IsLoopback() {
		log.Fatalf("-addr must be a loopback host:port, not %q", *addr)
	}
	data, err := os.ReadFile(*fixture)
	if err != nil {
		log.Fatal(err)
	}
	opts := sim.Options{Latency: *latency}
	for i := 1; i <= *users; i++ {
		opts.Users = append(opts.Users, sim.User{ConnectionID: fmt.Sprintf("user-%d", i), Name: fmt.Sprintf("User %d", i)})
	}
	s, err := sim.New(data, opts)
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", *addr) // port 0 picks a free one, printed below
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("fake Nango on http://%s, secret key %s, connection %q (and %d users), integration %q", ln.Addr(), sim.DefaultSecretKey, "sandbox", *users, "outlook")
	log.Fatal(http.Serve(ln, s))
}
