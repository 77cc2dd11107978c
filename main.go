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
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
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
  OUTLOOK_MCP_TOKEN      bearer token HTTP clients must send; required to listen beyond loopback
  OUTLOOK_MCP_LOG_LEVEL  debug, info, warn or error (default info); logs go to stderr
  OUTLOOK_MCP_TOOLSETS, OUTLOOK_MCP_TOOLS, OUTLOOK_MCP_READ_ONLY, OUTLOOK_MCP_HIDE_UNAVAILABLE
                         defaults of the flags of the same names

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
	addr          string
	sandbox       bool
	sandboxScopes string
	version       bool
	selection     tools.Selection
	hide          bool // --hide-unavailable
}

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	var o options
	fs := flag.NewFlagSet("outlook-mcp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage); fs.PrintDefaults() }
	fs.StringVar(&o.transport, "transport", "stdio", "stdio or http")
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "listen address for --transport http")
	fs.BoolVar(&o.sandbox, "sandbox", false, "run against a built-in simulated Nango and mailbox")
	fs.StringVar(&o.sandboxScopes, "sandbox-scopes", strings.Join(sim.DefaultScopes, ","), "scopes the sandbox connection was granted (comma or space separated)")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	toolsets := fs.String("toolsets", getenv("OUTLOOK_MCP_TOOLSETS"), "toolsets to offer, comma separated: "+strings.Join(tools.Toolsets, ", ")+" (default all; env OUTLOOK_MCP_TOOLSETS)")
	toolNames := fs.String("tools", getenv("OUTLOOK_MCP_TOOLS"), "offer exactly these tools, comma separated (env OUTLOOK_MCP_TOOLS)")
	for _, b := range []struct {
		v            *bool
		flag, env, u string
	}{
		{&o.selection.ReadOnly, "read-only", "OUTLOOK_MCP_READ_ONLY", "offer only tools that change nothing"},
		{&o.hide, "hide-unavailable", "OUTLOOK_MCP_HIDE_UNAVAILABLE", "do not list tools the connection lacks the scopes for"},
	} {
		def, err := envBool(getenv, b.env)
		if err != nil {
			return fail(stderr, err)
		}
		fs.BoolVar(b.v, b.flag, def, b.u+" (env "+b.env+")")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	o.selection.Toolsets, o.selection.Tools = list(*toolsets), list(*toolNames)
	if o.version {
		fmt.Fprintln(stdout, "outlook-mcp", buildVersion())
		return 0
	}
	switch o.transport {
	case "stdio":
	case "http":
		if err := transport.CheckAddr(o.addr, getenv("OUTLOOK_MCP_TOKEN")); err != nil {
			return fail(stderr, err)
		}
	default:
		return fail(stderr, fmt.Errorf("--transport must be stdio or http, not %q", o.transport))
	}
	logger, err := newLogger(stderr, getenv("OUTLOOK_MCP_LOG_LEVEL"))
	if err != nil {
		return fail(stderr, err)
	}
	s, err := newServer(o, getenv, logger)
	if err != nil {
		return fail(stderr, err)
	}
	if f, ok := stdin.(*os.File); ok && o.transport == "stdio" && isTerminal(f) {
		// A person ran it by hand: say what it is waiting for.
		logger.Info("waiting for an MCP client on stdin/stdout: start it from an MCP client (README: MCP client configuration), or use --transport http")
	}
	if o.transport == "http" {
		err = transport.ServeHTTP(ctx, s, transport.HTTPConfig{Addr: o.addr, Token: getenv("OUTLOOK_MCP_TOKEN"), Logger: logger}, nil)
	} else {
		err = transport.Stdio(ctx, s, stdin, stdout, logger)
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

func envBool(getenv func(string) string, name string) (bool, error) {
	v := getenv(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s must be true or false, not %q", name, v)
	}
	return b, nil
}

func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if level != "" {
		if err := l.UnmarshalText([]byte(level)); err != nil {
			return nil, fmt.Errorf("OUTLOOK_MCP_LOG_LEVEL must be debug, info, warn or error, not %q", level)
		}
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
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
