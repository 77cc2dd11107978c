// Command outlook-mcp is an MCP server that gives AI agents access to a
// person's Outlook mail, calendar and contacts through the Nango proxy.
//
// main only wires configuration and transports; the tools live in tools/,
// the Nango client in nango/, the simulator behind --sandbox in sim/.
package main

import (
	"cmp"
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // list_events validates IANA zones on machines without zoneinfo

	"github.com/mark3labs/mcp-go/server"

	"github.com/outlook-mcp/outlook-mcp/extract"
	"github.com/outlook-mcp/outlook-mcp/nango"
	"github.com/outlook-mcp/outlook-mcp/prompts"
	"github.com/outlook-mcp/outlook-mcp/sim"
	"github.com/outlook-mcp/outlook-mcp/tools"
	"github.com/outlook-mcp/outlook-mcp/transport"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = ""

//go:embed testdata/mailbox.json
var sandboxMailbox []byte

const usage = `outlook-mcp: Outlook mail, calendar and contacts for AI agents, over MCP, through Nango.

Usage:
  outlook-mcp [flags]                                  serve MCP over stdio (for Claude Desktop, VS Code, Cursor)
  outlook-mcp --transport http --addr 127.0.0.1:8080   serve streamable HTTP at /mcp and SSE at /sse
  outlook-mcp --sandbox                                try it with a simulated mailbox, no account needed

Environment:
  NANGO_SECRET_KEY       Nango environment secret key (required unless --sandbox)
  NANGO_CONNECTION_ID    the user's Nango connection id (required unless --sandbox)
  NANGO_INTEGRATION_ID   Nango integration id (default "outlook")
  NANGO_HOST             Nango API host (default https://api.nango.dev)
  OUTLOOK_MCP_TOKEN      bearer token HTTP clients must send; required to listen beyond loopback,
                         then at least 32 characters (make one with: openssl rand -hex 32)
  OUTLOOK_MCP_LOG_LEVEL  debug, info, warn or error (default info); logs go to stderr
  OUTLOOK_MCP_X_Y        the default of the flag --x-y (e.g. OUTLOOK_MCP_READ_ONLY=true);
                         a flag on the command line beats its variable

Flags:
`

func main() {
	extract.RunChildIfRequested() // a sandboxed text extraction: see extract/sandbox.go
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr))
}

type options struct {
	transport     string
	sandbox       bool
	sandboxScopes string
	version       bool
	selection     tools.Selection
	hide          bool // --hide-unavailable
	redisURL      string
	http          transport.HTTPConfig
}

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	var o options
	fs := flag.NewFlagSet("outlook-mcp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage); fs.PrintDefaults() }
	fs.StringVar(&o.transport, "transport", "stdio", "stdio or http")
	fs.StringVar(&o.http.Addr, "addr", "127.0.0.1:8080", "listen address for --transport http")
	fs.BoolVar(&o.sandbox, "sandbox", false, "run against a built-in simulated Nango and mailbox")
	fs.StringVar(&o.sandboxScopes, "sandbox-scopes", strings.Join(sim.DefaultScopes, ","), "scopes the sandbox connection was granted (comma or space separated)")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	toolsets := fs.String("toolsets", "", "toolsets to offer, comma separated: "+strings.Join(tools.Toolsets, ", ")+" (default all)")
	toolNames := fs.String("tools", "", "offer exactly these tools, comma separated")
	fs.BoolVar(&o.selection.ReadOnly, "read-only", false, "offer only tools that change nothing")
	fs.BoolVar(&o.hide, "hide-unavailable", false, "do not list tools the connection lacks the scopes for")
	origins := fs.String("allowed-origins", "", "origins of the web pages that may call the HTTP server, comma separated, e.g. https://app.example.com (default none)")
	hosts := fs.String("allowed-hosts", "", "Host names a reverse proxy on this machine forwards, comma separated (localhost always works)")
	proxies := fs.String("trusted-proxies", "", "IPs or CIDR ranges of reverse proxies whose X-Forwarded-For names the client, comma separated")
	fs.Int64Var(&o.http.MaxRequestBytes, "max-request-bytes", transport.DefaultMaxRequestBytes, "largest HTTP request body, in bytes")
	fs.IntVar(&o.http.MaxSessions, "max-sessions", transport.DefaultMaxSessions, "most SSE streams open at once")
	fs.DurationVar(&o.http.ShutdownGrace, "shutdown-grace", transport.DefaultShutdownGrace, "on shutdown, how long calls in flight may still run to their answer")
	fs.StringVar(&o.redisURL, "redis-url", "", "share each mailbox's limits (4 calls at once, Retry-After pauses) with the other replicas through this Redis, e.g. redis://redis:6379/0 (default: each process alone)")
	if err := defaultsFromEnv(fs, getenv); err != nil {
		return fail(stderr, err)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	o.selection.Toolsets, o.selection.Tools = list(*toolsets), list(*toolNames)
	o.http.AllowedOrigins, o.http.AllowedHosts, o.http.TrustedProxies = list(*origins), list(*hosts), list(*proxies)
	o.http.Token = getenv("OUTLOOK_MCP_TOKEN")
	if o.version {
		fmt.Fprintln(stdout, "outlook-mcp", buildVersion())
		return 0
	}
	for _, n := range []struct {
		flag string
		v    int64
	}{{"max-request-bytes", o.http.MaxRequestBytes}, {"max-sessions", int64(o.http.MaxSessions)}} {
		if n.v < 1 { // 0 would mean the default to transport
			return fail(stderr, fmt.Errorf("--%s must be at least 1, not %d", n.flag, n.v))
		}
	}
	if o.http.ShutdownGrace <= 0 {
		return fail(stderr, fmt.Errorf("--shutdown-grace must be a positive duration such as 10s, not %s", o.http.ShutdownGrace))
	}
	switch o.transport {
	case "stdio":
	case "http":
		if err := o.http.Check(); err != nil {
			return fail(stderr, err)
		}
	default:
		return fail(stderr, fmt.Errorf("--transport must be stdio or http, not %q", o.transport))
	}
	logger, err := newLogger(stderr, getenv("OUTLOOK_MCP_LOG_LEVEL"))
	if err != nil {
		return fail(stderr, err)
	}
	// mcp-go writes some errors with the standard log package: they go
	// through the logger too, which keeps session ids out.
	defer log.SetOutput(log.Writer())
	defer log.SetFlags(log.Flags())
	log.SetOutput(transport.LogWriter(logger))
	log.SetFlags(0)
	s, err := newServer(o, getenv, logger)
	if err != nil {
		return fail(stderr, err)
	}
	if f, ok := stdin.(*os.File); ok && o.transport == "stdio" && isTerminal(f) {
		// A person ran it by hand: say what it is waiting for.
		logger.Info("waiting for an MCP client on stdin/stdout: start it from an MCP client (README: MCP client configuration), or use --transport http")
	}
	if o.transport == "http" {
		o.http.Logger = logger
		err = transport.ServeHTTP(ctx, s, o.http, nil)
	} else {
		err = transport.Stdio(ctx, s, stdin, stdout, transport.StdioConfig{MaxRequestBytes: int(o.http.MaxRequestBytes), ShutdownGrace: o.http.ShutdownGrace, Logger: logger})
	}
	if err != nil {
		return fail(stderr, err)
	}
	return 0
}

func fail(stderr io.Writer, err error) int {
	fmt.Fprintln(stderr, "outlook-mcp:", err)
	return 1
}

// newServer builds the MCP server from configuration. It makes no network
// call: start-up stays fast and works offline.
func newServer(o options, getenv func(string) string, logger *slog.Logger) (*server.MCPServer, error) {
	cfg := nango.Config{
		Host:          getenv("NANGO_HOST"),
		SecretKey:     getenv("NANGO_SECRET_KEY"),
		IntegrationID: cmp.Or(getenv("NANGO_INTEGRATION_ID"), "outlook"),
		Logger:        logger,
	}
	connectionID := getenv("NANGO_CONNECTION_ID")
	if o.sandbox {
		simulator, err := sim.New(sandboxMailbox, sim.Options{
			IntegrationID: cfg.IntegrationID,
			Scopes:        list(o.sandboxScopes),
		})
		if err != nil {
			return nil, fmt.Errorf("sandbox: %w", err)
		}
		cfg.Host, cfg.SecretKey, cfg.HTTPClient = "http://nango.sandbox", sim.DefaultSecretKey, simulator.Client()
		connectionID = "sandbox"
		logger.Info("sandbox mode: simulated Nango and mailbox, nothing leaves this process", "scopes", o.sandboxScopes)
	} else {
		if cfg.SecretKey == "" {
			return nil, errors.New("NANGO_SECRET_KEY is not set: set it to your Nango environment's secret key (or try --sandbox)")
		}
		if connectionID == "" {
			return nil, errors.New("NANGO_CONNECTION_ID is not set: set it to the id of the user's Outlook connection in Nango (or try --sandbox)")
		}
	}
	if o.redisURL != "" {
		limits, err := nango.NewRedisLimits(nango.RedisConfig{URL: o.redisURL, Logger: logger})
		if err != nil {
			return nil, fmt.Errorf("--redis-url (OUTLOOK_MCP_REDIS_URL): %w", err)
		}
		cfg.Limits = limits
		logger.Info("per-mailbox limits are shared with the other replicas through Redis")
	}
	return buildServer(cfg, connectionID, o, logger)
}

// buildServer wires the Nango client, the selected tools and the prompts
// those tools support into an MCP server.
func buildServer(cfg nango.Config, connectionID string, o options, logger *slog.Logger) (*server.MCPServer, error) {
	selected, err := tools.Select(tools.All(), o.selection)
	if err != nil {
		return nil, fmt.Errorf("--toolsets/--tools: %w", err)
	}
	client, err := nango.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("NANGO_SECRET_KEY/NANGO_HOST: %w", err)
	}
	deps := tools.Deps{
		Nango:           client,
		ConnectionID:    func(context.Context) (string, error) { return connectionID, nil },
		Logger:          logger,
		HideUnavailable: o.hide,
	}
	s := tools.NewServer(buildVersion(), deps, selected)
	names := make([]string, len(selected))
	for i, t := range selected {
		names[i] = t.Name
	}
	s.AddPrompts(prompts.For(names)...) // also announces the prompts capability
	if o.hide {
		// A prompt whose tools are hidden would send the model to them.
		server.WithPromptFilter(prompts.OnlyUsable(func(ctx context.Context) func(string) bool {
			return deps.Usable(ctx, selected)
		}))(s)
	}
	return s, nil
}

// list splits a comma- or space-separated flag value.
func list(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
}

// defaultsFromEnv gives every flag --x-y (but --version) the default
// OUTLOOK_MCP_X_Y from the environment; the command line still beats it.
func defaultsFromEnv(fs *flag.FlagSet, getenv func(string) string) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name == "version" || err != nil {
			return
		}
		name := envName(f.Name)
		f.Usage += " (env " + name + ")"
		v := getenv(name)
		if v == "" {
			return
		}
		if setErr := fs.Set(f.Name, v); setErr != nil {
			if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
				err = fmt.Errorf("%s must be true or false, not %q", name, v)
			} else if _, ok := f.Value.(flag.Getter).Get().(time.Duration); ok {
				err = fmt.Errorf("%s must be a duration such as 10s, not %q", name, v)
			} else {
				err = fmt.Errorf("%s=%q is not a valid --%s: %v", name, v, f.Name, setErr)
			}
		}
	})
	return err
}

// envName is the variable of the flag --x-y: OUTLOOK_MCP_X_Y.
func envName(flagName string) string {
	return "OUTLOOK_MCP_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if level != "" {
		if err := l.UnmarshalText([]byte(level)); err != nil {
			return nil, fmt.Errorf("OUTLOOK_MCP_LOG_LEVEL must be debug, info, warn or error, not %q", level)
		}
	}
	return slog.New(transport.RedactSessionIDs(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))), nil
}

func isTerminal(f *os.File) bool {
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "dev"
}
