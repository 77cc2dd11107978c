package oauth

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/outlook-mcp/outlook-mcp/nango"
)

// How a signed-in user's Nango connection is found (--connection-lookup).
const (
	// LookupTags finds the connection whose tag end_user_id equals a claim
	// of the token (--connection-claim, default sub): connections made
	// through a Nango Connect link, whose ids Nango picks.
	LookupTags = "tags"
	// LookupTemplate builds the connection id from the token's claims
	// (--connection-template, default {sub}): deployments that create
	// connections with ids they choose.
	LookupTemplate = "template"
)

// Config is the oauth mode's configuration. Each field is one flag.
type Config struct {
	// PublicURL (--public-url) is the MCP endpoint as clients reach it,
	// e.g. https://mcp.example.com/mcp: the resource of the metadata,
	// exactly as given, and the default audience.
	PublicURL string
	// Issuer (--oauth-issuer) is the authorization server's issuer
	// identifier; tokens' iss must equal it exactly.
	Issuer string
	// Audience (--oauth-audience) must be among a token's aud; default
	// PublicURL (RFC 8707). Entra ID puts the API's client id there.
	Audience string
	// Scope (--oauth-scope) lists the scopes a token must carry (space or
	// comma separated); empty: none required.
	Scope string
	// Lookup (--connection-lookup) is LookupTags (default) or LookupTemplate.
	Lookup string
	// Claim (--connection-claim) is the claim matched against the tag
	// end_user_id in tags mode; default "sub".
	Claim string
	// Template (--connection-template) is the connection id in template
	// mode, with {claim} placeholders; default "{sub}".
	Template string

	// Nango is the client that finds connections and makes Connect links,
	// with the server's secret key only. Required in tags mode.
	Nango *nango.Client
	// HTTPClient fetches the issuer's metadata and keys; default one with
	// a 10 s timeout. It never carries a client's token.
	HTTPClient *http.Client
	Logger     *slog.Logger
	Now        func() time.Time // default time.Now

	// KeyRefetchInterval is the least time between two fetches of the
	// issuer's keys for a token naming an unknown key; default 30 s.
	KeyRefetchInterval time.Duration
	// KeyMaxAge is how long keys are used before they are refreshed;
	// default 1 h.
	KeyMaxAge time.Duration
	// FoundTTL and NotFoundTTL are how long a tags lookup's answer is
	// reused; default 5 min and 15 s (a user who just connected is found
	// soon). At most MaxCachedUsers answers are kept (default 10,000).
	FoundTTL, NotFoundTTL time.Duration
	MaxCachedUsers        int
}

// claimName is a JWT claim name usable in --connection-claim and templates.
var claimName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$`)

// placeholder is one {claim} of a template.
var placeholder = regexp.MustCompile(`\{([^{}]*)\}`)

// Check validates the configuration without any network call; its errors
// name the flag to fix.
func (c *Config) Check() error {
	var errs []error
	if err := checkURL(c.PublicURL, "--public-url", "the MCP endpoint as clients reach it, e.g. https://mcp.example.com/mcp"); err != nil {
		errs = append(errs, err)
	} else if u, _ := url.Parse(c.PublicURL); u.RawQuery != "" || u.Fragment != "" {
		errs = append(errs, fmt.Errorf("--public-url must have no query or fragment, not %q", c.PublicURL))
	}
	if err := checkURL(c.Issuer, "--oauth-issuer", "the authorization server's issuer, e.g. https://login.microsoftonline.com/<tenant>/v2.0"); err != nil {
		errs = append(errs, err)
	}
	if strings.ContainsAny(c.Audience, " \t\r\n\"") {
		errs = append(errs, fmt.Errorf("--oauth-audience must be one audience, without spaces or quotes, not %q", c.Audience))
	}
	for _, s := range scopeList(c.Scope) {
		if strings.ContainsAny(s, "\"\\") {
			errs = append(errs, fmt.Errorf("--oauth-scope: %q is not a scope (no quotes or backslashes)", s))
		}
	}
	switch c.Lookup {
	case "", LookupTags:
		if c.Claim != "" && !claimName.MatchString(c.Claim) {
			errs = append(errs, fmt.Errorf("--connection-claim must be a claim name such as sub, email or oid, not %q", c.Claim))
		}
	case LookupTemplate:
		if err := checkTemplate(c.Template); err != nil {
			errs = append(errs, err)
		}
	default:
		errs = append(errs, fmt.Errorf("--connection-lookup must be %s or %s, not %q", LookupTags, LookupTemplate, c.Lookup))
	}
	return errors.Join(errs...)
}

func checkTemplate(t string) error {
	if t == "" {
		return nil // {sub}
	}
	matches := placeholder.FindAllStringSubmatch(t, -1)
	if len(matches) == 0 {
		return fmt.Errorf("--connection-template must contain a claim such as {sub}, or every user would share one mailbox: %q", t)
	}
	for _, m := range matches {
		if !claimName.MatchString(m[1]) {
			return fmt.Errorf("--connection-template: {%s} is not a claim name (use {sub}, {email}, {oid}...)", m[1])
		}
	}
	if rest := placeholder.ReplaceAllString(t, "x"); !connectionID.MatchString(rest) {
		return fmt.Errorf("--connection-template: %q would not make a valid connection id (letters, digits and . _ @ + : | = - only)", t)
	}
	return nil
}

// checkURL requires an absolute https URL (http only on loopback, for
// development).
func checkURL(v, flag, what string) error {
	if v == "" {
		return fmt.Errorf("%s is required in oauth mode: %s", flag, what)
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || u.User != nil || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname()))) {
		return fmt.Errorf("%s must be an https URL (http only on localhost), not %q: %s", flag, v, what)
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// scopeList splits a scope list on spaces and commas.
func scopeList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' })
}

// withDefaults fills in the defaults.
func (c Config) withDefaults() Config {
	if c.Audience == "" {
		c.Audience = c.PublicURL
	}
	if c.Lookup == "" {
		c.Lookup = LookupTags
	}
	if c.Claim == "" {
		c.Claim = "sub"
	}
	if c.Template == "" {
		c.Template = "{sub}"
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.KeyRefetchInterval <= 0 {
		c.KeyRefetchInterval = 30 * time.Second
	}
	if c.KeyMaxAge <= 0 {
		c.KeyMaxAge = time.Hour
	}
	if c.FoundTTL <= 0 {
		c.FoundTTL = 5 * time.Minute
	}
	if c.NotFoundTTL <= 0 {
		c.NotFoundTTL = 15 * time.Second
	}
	if c.MaxCachedUsers <= 0 {
		c.MaxCachedUsers = 10000
	}
	return c
}
