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
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // list_events validates IANA zones on machines without zoneinfo

	"github.com/mark3labs/mcp-go/server"

	"github.com/outlook-mcp/outlook-mcp/extract"
	"github.com/outlook-mcp/outlook-mcp/handles"
	"github.com/outlook-mcp/outlook-mcp/identity"
	"github.com/outlook-mcp/outlook-mcp/nango"
	"github.com/outlook-mcp/outlook-mcp/oauth"
	"github.com/outlook-mcp/outlook-mcp/ops"
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
	maxTokens     int  // --max-response-tokens
	redisURL      string
	stateDir      string        // --state-dir
	handles       handles.Store // built from stateDir or redisURL by newServer
	http          transport.HTTPConfig
	auth          string        // --auth: token, nango or oauth
	tokensFile    string        // --tokens-file, for --auth nango
	oauth         oauth.Config  // --auth oauth
	auditLog      string        // --audit-log; "" = stderr
	metricsAddr   string        // --metrics-addr; "" = /metrics on the HTTP listener
	observer      *ops.Observer // the audit log and metrics; nil = none
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
	fs.IntVar(&o.maxTokens, "max-response-tokens", tools.DefaultMaxResponseTokens, "the most tokens one tool answer may hold, text and structured content together; longer lists and texts are paged")
	origins := fs.String("allowed-origins", "", "origins of the web pages that may call the HTTP server, comma separated, e.g. https://app.example.com (default none)")
	hosts := fs.String("allowed-hosts", "", "Host names a reverse proxy on this machine forwards, comma separated (localhost always works)")
	proxies := fs.String("trusted-proxies", "", "IPs or CIDR ranges of reverse proxies whose X-Forwarded-For names the client, comma separated")
	fs.Int64Var(&o.http.MaxRequestBytes, "max-request-bytes", transport.DefaultMaxRequestBytes, "largest HTTP request body, in bytes")
	fs.IntVar(&o.http.MaxSessions, "max-sessions", transport.DefaultMaxSessions, "most SSE streams open at once")
	fs.DurationVar(&o.http.ShutdownGrace, "shutdown-grace", transport.DefaultShutdownGrace, "on shutdown, how long calls in flight may still run to their answer")
	// Who calls over HTTP, and on which connection (README: Deploy for a team).
	fs.StringVar(&o.auth, "auth", "token", "how HTTP requests are authenticated: token (the bearer OUTLOOK_MCP_TOKEN, the one connection NANGO_CONNECTION_ID), nango (Authorization: Bearer <Nango secret key or service token>, and a connection-id header naming the user's connection) or oauth (access tokens of an OAuth authorization server: --public-url, --oauth-issuer)")
	fs.StringVar(&o.tokensFile, "tokens-file", "", "with --auth nango: a file of service tokens accepted besides the Nango secret key, one per line, each optionally followed by a label")
	// --auth oauth: the server as an OAuth resource server (oauth/).
	fs.StringVar(&o.oauth.PublicURL, "public-url", "", "the MCP endpoint as remote clients reach it, e.g. https://mcp.example.com/mcp: the OAuth resource and default audience")
	fs.StringVar(&o.oauth.Issuer, "oauth-issuer", "", "the OAuth authorization server's issuer, e.g. https://login.microsoftonline.com/<tenant>/v2.0")
	fs.StringVar(&o.oauth.Audience, "oauth-audience", "", "the audience access tokens must carry (default --public-url; Entra ID: the API's client id)")
	fs.StringVar(&o.oauth.Scope, "oauth-scope", "", "scopes access tokens must carry, space or comma separated (default none)")
	fs.StringVar(&o.oauth.Lookup, "connection-lookup", oauth.LookupTags, "how a signed-in user's Nango connection is found: tags (tag end_user_id = the token's --connection-claim) or template (--connection-template)")
	fs.StringVar(&o.oauth.Claim, "connection-claim", "sub", "the token claim matched against the connection tag end_user_id (--connection-lookup tags)")
	fs.StringVar(&o.oauth.Template, "connection-template", "{sub}", "the connection id made from token claims, e.g. {sub}, {email}, user-{oid} (--connection-lookup template)")
	fs.StringVar(&o.auditLog, "audit-log", "", "append the audit log (one JSON line per tool call) to this file instead of stderr")
	fs.StringVar(&o.metricsAddr, "metrics-addr", "", "serve /metrics (and /readyz, /healthz) on this address, e.g. 127.0.0.1:9464, instead of on the HTTP listener")
	fs.StringVar(&o.redisURL, "redis-url", "", "share each mailbox's limits (4 calls at once, Retry-After pauses) with the other replicas through this Redis, e.g. redis://redis:6379/0 (default: each process alone)")
	fs.StringVar(&o.stateDir, "state-dir", "", "where the short ids the tools show instead of Graph ids are kept, shared by this user's processes; none keeps them in memory, for this process alone (default: the OS cache directory/outlook-mcp; with --redis-url: Redis; with --sandbox: memory)")
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
	if o.maxTokens < tools.MinResponseTokens {
		return fail(stderr, fmt.Errorf("--max-response-tokens must be at least %d, not %d", tools.MinResponseTokens, o.maxTokens))
	}
	if o.http.ShutdownGrace <= 0 {
		return fail(stderr, fmt.Errorf("--shutdown-grace must be a positive duration such as 10s, not %s", o.http.ShutdownGrace))
	}
	if err := o.authentication(getenv); err != nil {
		return fail(stderr, err)
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
	if o.metricsAddr != "" {
		if err := transport.CheckAddr(o.metricsAddr, o.http.Token); err != nil {
			return fail(stderr, fmt.Errorf("--metrics-addr: %w", err))
		}
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
	audit := stderr
	if o.auditLog != "" {
		f, err := os.OpenFile(o.auditLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return fail(stderr, fmt.Errorf("--audit-log: %w", err))
		}
		defer f.Close()
		audit = f
	}
	o.observer = ops.New(audit, logger)
	if o.redisURL == "" {
		// Made here to be closed at exit: SQLite then folds its write-ahead
		// log into the file and removes it. A Redis store is made by
		// newServer, on the client it shares with the limits.
		o.handles = handleStore(o, nil)
		defer o.handles.Close()
	}
	s, client, err := newServer(o, getenv, logger)
	if err != nil {
		return fail(stderr, err)
	}
	if o.auth == "oauth" {
		// Signed-in users are looked up in, and onboarded through, Nango.
		o.oauth.Nango, o.oauth.Logger = client, logger
		if o.http.Auth, o.http.Public, err = oauthAuthenticator(o.oauth); err != nil {
			return fail(stderr, err)
		}
	}
	endpoints := transport.Ops{Metrics: o.observer.Metrics(), Ready: o.observer.Ready()}
	if o.metricsAddr != "" {
		opsCfg := o.http
		opsCfg.Logger = logger
		opsCtx, stopOps := context.WithCancel(ctx) // also when the server stops on an error
		defer stopOps()
		_, done, err := transport.StartOps(opsCtx, o.metricsAddr, endpoints, opsCfg)
		if err != nil {
			return fail(stderr, fmt.Errorf("--metrics-addr: %w", err))
		}
		go func() {
			if err := <-done; err != nil {
				logger.Error("the metrics listener stopped", "err", err)
			}
		}()
		endpoints.Metrics = nil
	}
	o.http.Ops = endpoints
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

// authentication checks --auth and its settings, and sets the HTTP
// authenticator of the nango mode (the token mode is the guard's default).
func (o *options) authentication(getenv func(string) string) error {
	token := getenv("OUTLOOK_MCP_TOKEN")
	switch o.auth {
	case "token":
		if o.tokensFile != "" {
			return errors.New("--tokens-file (OUTLOOK_MCP_TOKENS_FILE) is for --auth nango; with --auth token clients send OUTLOOK_MCP_TOKEN")
		}
		return nil
	case "nango":
	case "oauth":
		switch {
		case o.transport != "http":
			return errors.New("--auth oauth is for --transport http, where remote clients sign their users in; over stdio the server serves NANGO_CONNECTION_ID")
		case token != "":
			return errors.New("OUTLOOK_MCP_TOKEN is for --auth token; with --auth oauth clients send access tokens of --oauth-issuer: unset it")
		case o.tokensFile != "":
			return errors.New("--tokens-file (OUTLOOK_MCP_TOKENS_FILE) is for --auth nango; with --auth oauth clients send access tokens of --oauth-issuer")
		}
		if err := o.oauth.Check(); err != nil {
			return err
		}
		// Clients reach the server by the public URL's name, through a
		// reverse proxy that forwards it.
		if u, err := url.Parse(o.oauth.PublicURL); err == nil && u.Hostname() != "" {
			o.http.AllowedHosts = append(o.http.AllowedHosts, u.Hostname())
		}
		return nil // the authenticator needs the Nango client: see run
	default:
		return fmt.Errorf("--auth must be token, nango or oauth, not %q", o.auth)
	}
	switch {
	case o.transport != "http":
		return errors.New("--auth nango is for --transport http, where each request names its connection; over stdio the server serves NANGO_CONNECTION_ID")
	case token != "":
		return errors.New("OUTLOOK_MCP_TOKEN is for --auth token; with --auth nango clients send the Nango secret key or a service token of --tokens-file (OUTLOOK_MCP_TOKENS_FILE): unset it")
	}
	cfg := transport.NangoAuthConfig{SecretKey: getenv("NANGO_SECRET_KEY"), Integration: cmp.Or(getenv("NANGO_INTEGRATION_ID"), "outlook")}
	if o.sandbox {
		cfg.SecretKey = sim.DefaultSecretKey
	}
	if o.tokensFile != "" {
		var err error
		if cfg.Tokens, err = transport.ReadTokensFile(o.tokensFile); err != nil {
			return err
		}
	}
	auth, err := transport.NangoAuth(cfg)
	if err != nil {
		return err
	}
	o.http.Auth = auth
	return nil
}

// oauthAuthenticator is --auth oauth as the transport sees it: the
// authenticator, and the protected-resource metadata served to anyone.
func oauthAuthenticator(cfg oauth.Config) (transport.Authenticator, map[string]http.Handler, error) {
	auth, err := oauth.New(cfg)
	if err != nil {
		return nil, nil, err
	}
	authenticate := func(r *http.Request) (identity.Identity, *transport.AuthError) {
		id, no := auth.Authenticate(r)
		if no != nil {
			return id, &transport.AuthError{Status: no.Status, Message: no.Message, Challenge: no.Challenge, Guess: no.Failed}
		}
		return id, nil
	}
	public := map[string]http.Handler{}
	for _, path := range auth.MetadataPaths() {
		public[path] = auth.MetadataHandler()
	}
	return transport.AuthenticatorFunc(authenticate), public, nil
}

// oneConnection tells whether the server serves the one connection of
// NANGO_CONNECTION_ID (stdio, --auth token), rather than the one each
// request's authentication names.
func (o *options) oneConnection() bool { return o.auth != "nango" && o.auth != "oauth" }

func fail(stderr io.Writer, err error) int {
	fmt.Fprintln(stderr, "outlook-mcp:", err)
	return 1
}

// newServer builds the MCP server from configuration. It makes no network
// call: start-up stays fast and works offline.
func newServer(o options, getenv func(string) string, logger *slog.Logger) (*server.MCPServer, *nango.Client, error) {
	cfg := nango.Config{
		Host:          getenv("NANGO_HOST"),
		SecretKey:     getenv("NANGO_SECRET_KEY"),
		IntegrationID: cmp.Or(getenv("NANGO_INTEGRATION_ID"), "outlook"),
		Logger:        logger,
	}
	connectionID := getenv("NANGO_CONNECTION_ID")
	if !o.oneConnection() {
		// Every request names its connection: none is served by default.
		if connectionID != "" {
			return nil, nil, errors.New("NANGO_CONNECTION_ID is set, but with --auth " + o.auth + " each request names its own connection: unset it, or use --auth token to serve that one connection")
		}
	}
	if o.sandbox {
		simulator, err := sim.New(sandboxMailbox, sim.Options{
			IntegrationID: cfg.IntegrationID,
			Scopes:        list(o.sandboxScopes),
		})
		if err != nil {
			return nil, nil, fmt.Errorf("sandbox: %w", err)
		}
		cfg.Host, cfg.SecretKey, cfg.HTTPClient = "http://nango.sandbox", sim.DefaultSecretKey, simulator.Client()
		if o.oneConnection() {
			connectionID = "sandbox"
		}
		logger.Info("sandbox mode: simulated Nango and mailbox, nothing leaves this process", "scopes", o.sandboxScopes)
	} else {
		if cfg.SecretKey == "" {
			return nil, nil, errors.New("NANGO_SECRET_KEY is not set: set it to your Nango environment's secret key (or try --sandbox)")
		}
		if connectionID == "" && o.oneConnection() {
			return nil, nil, errors.New("NANGO_CONNECTION_ID is not set: set it to the id of the user's Outlook connection in Nango (or try --sandbox)")
		}
	}
	var shared *nango.RedisLimits
	if o.redisURL != "" {
		limits, err := nango.NewRedisLimits(nango.RedisConfig{URL: o.redisURL, Logger: logger})
		if err != nil {
			return nil, nil, fmt.Errorf("--redis-url (OUTLOOK_MCP_REDIS_URL): %w", err)
		}
		cfg.Limits, shared = limits, limits
		logger.Info("per-mailbox limits and short ids are shared with the other replicas through Redis")
	}
	if o.handles == nil || shared != nil {
		o.handles = handleStore(o, shared)
	}
	return buildServer(cfg, connectionID, o, logger)
}

// handleStore is where the short ids the tools show instead of Graph ids
// are kept: Redis when replicas share one, else a SQLite file in the state
// directory that every process of the user shares. The sandbox's mailbox
// lives only as long as its process, so its ids do too, unless a state
// directory is given. Nothing is opened here: the store opens on first use.
func handleStore(o options, shared *nango.RedisLimits) handles.Store {
	switch {
	case shared != nil:
		return handles.NewRedis(shared.Client())
	case o.stateDir == "none", o.stateDir == "" && o.sandbox:
		return handles.NewMemory()
	case o.stateDir != "":
		return handles.NewSQLite(o.stateDir)
	}
	if dir, err := os.UserCacheDir(); err == nil {
		return handles.NewSQLite(filepath.Join(dir, "outlook-mcp"))
	}
	return handles.NewSQLite(filepath.Join(os.TempDir(), "outlook-mcp-"+strconv.Itoa(os.Getuid()))) // the user's own
}

// buildServer wires the Nango client, the selected tools and the prompts
// those tools support into an MCP server.
func buildServer(cfg nango.Config, connectionID string, o options, logger *slog.Logger) (*server.MCPServer, *nango.Client, error) {
	selected, err := tools.Select(tools.All(), o.selection)
	if err != nil {
		return nil, nil, fmt.Errorf("--toolsets/--tools: %w", err)
	}
	client, err := nango.New(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("NANGO_SECRET_KEY/NANGO_HOST: %w", err)
	}
	deps := tools.Deps{
		Nango:             client,
		DefaultConnection: connectionID,
		Logger:            logger,
		HideUnavailable:   o.hide,
		Handles:           o.handles,
		MaxResponseTokens: o.maxTokens,
	}
	if o.observer != nil {
		deps.Observe = o.observer.Observe
	}
	s := tools.NewServer(buildVersion(), deps, selected)
	if o.observer != nil {
		o.observer.Watch(s, client)
	}
	names := make([]string, len(selected))
	for i, t := range selected {
		names[i] = t.Name
	}
	lacks := func(ctx context.Context) func(string, string) string { return deps.Lacking(ctx, selected) }
	s.AddPrompts(prompts.For(names, lacks)...) // also announces the prompts capability
	if o.hide {
		// A prompt whose tools are hidden would send the model to them.
		server.WithPromptFilter(prompts.OnlyUsable(lacks))(s)
	}
	return s, client, nil
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
	info, ok := debug.ReadBuildInfo()
	if !ok {
		info = nil
	}
	return versionOf(version, info)
}

// versionOf is the version serverInfo and --version show: the stamped one
// (-ldflags "-X main.version=…", as the README builds it); else the VCS
// revision the Go toolchain records in a checkout (12 hex digits, "-dirty"
// with uncommitted changes); else the module version (go install
// module@version, which records no VCS); else "dev". With
// GOFLAGS=-buildvcs=false there is no revision and Main.Version is
// "(devel)": "dev", not an empty or misleading version.
func versionOf(stamped string, info *debug.BuildInfo) string {
	if stamped != "" {
		return stamped
	}
	if info == nil {
		return "dev"
	}
	var revision string
	var modified bool
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if revision != "" {
		if len(revision) > 12 {
			revision = revision[:12]
		}
		if modified {
			revision += "-dirty"
		}
		return revision
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	return "dev"
}
