// Package sim is an in-memory simulator of the Nango API with a Microsoft
// Graph Outlook mailbox behind its proxy. It backs the test suite and the
// product's --sandbox mode, so it reproduces the real services' behaviour,
// quirks and errors, as Nango's and Microsoft Graph's documentation describe
// them and sim_test.go pins them down: Nango's authentication, header
// forwarding and status rewriting; Graph's scopes, OData query options, KQL
// search, paging, time zones and error shapes. It never touches the network.
package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// DefaultSecretKey is the Nango secret key a Sim accepts unless Options says
// otherwise. It is a UUID v4, as Nango requires.
const DefaultSecretKey = "7d3f2c1a-9b4e-4f6a-8c2d-5e1b0a9f3c74"

// DefaultScopes are the delegated Graph permissions granted by default.
var DefaultScopes = []string{"User.Read", "Mail.ReadWrite", "Mail.Send", "Calendars.ReadWrite", "Calendars.ReadWrite.Shared", "Contacts.ReadWrite", "MailboxSettings.ReadWrite", "People.Read", "User.ReadBasic.All", "offline_access"}

// ScopeFormat is how Microsoft's token response spells the granted scopes
// (credentials.raw.scope): both forms are seen in the wild.
type ScopeFormat int

const (
	// ScopesURL: "https://graph.microsoft.com/Mail.Read ... offline_access openid".
	ScopesURL ScopeFormat = iota
	// ScopesPlain: "Mail.Read User.Read offline_access openid profile email".
	ScopesPlain
)

// Options configures one simulated Nango environment with one connection,
// or more with Users.
type Options struct {
	SecretKey       string        // accepted Nango secret key; default DefaultSecretKey
	IntegrationID   string        // default "outlook"
	ConnectionID    string        // default "sandbox"
	Scopes          []string      // scopes Microsoft granted; default DefaultScopes
	ScopeFormat     ScopeFormat   // how credentials.raw.scope is written; default ScopesURL
	HideCredentials bool          // the secret key lacks read_credentials: GET /connections returns "credentials": {}
	RefreshFailed   bool          // the token refresh failed: the proxy answers 400 server_error, the connection lists an auth error
	DenyReconnect   bool          // the key lacks environment:connect_sessions:write: reconnect answers 403
	PersonalAccount bool          // a Microsoft personal account: directory calls fail, /me has no mail
	Latency         time.Duration // added to every proxy call; request cancellation is honoured
	Now             func() time.Time
	// Users are more connections of the same environment and integration,
	// each another person with their own mailbox and scopes (see User).
	// Faults, requests and sent mail are per connection, but the requests
	// of every connection are recorded by the Sim New returned.
	Users []User
}

// Fault is a failure injected into matching proxy requests.
type Fault struct {
	Method         string // "" = any
	Path           string // Graph path prefix after /proxy, e.g. "/v1.0/me/sendMail"; "" = any proxy request
	Status         int    // e.g. 429, 503
	Code           string // Graph error code; "" = a sensible default for Status
	RetryAfter     string // Retry-After header value; "" = none
	Times          int    // how many matching requests fail; default 1
	AfterEffect    bool   // perform the request's effect, then answer with the fault (a 5xx after Graph executed)
	Hang           bool   // perform the request's effect, then never answer until the caller gives up (Status is unused)
	NangoRateLimit bool   // answer as Nango's own rate limit: 429 too_many_request
	RefreshFailed  bool   // answer as Nango does when Microsoft refuses the token refresh: 400 invalid_credentials
}

// Request is one request the simulated Nango received.
type Request struct {
	Method string
	// Path is the request path, unescaped; for proxy requests it is the
	// Graph path after "/proxy", e.g. "/v1.0/me/messages", unescaped
	// segment by segment: an escaped "/" inside a segment stays %2F.
	Path    string
	RawPath string // the path exactly as sent (escaped), after "/proxy" for proxy requests
	Query   url.Values
	// Header is what Graph sees: for proxy requests only the Nango-Proxy-*
	// headers, prefix stripped and canonicalised; nil for other requests.
	Header      http.Header
	NangoHeader http.Header // the headers as Nango received them
	Body        []byte
	Proxy       bool
}

// ReconnectRequest is the gist of one POST /connect/sessions/reconnect.
type ReconnectRequest struct {
	ConnectionID, IntegrationID string
	Scopes                      []string // oauth_scopes_override split on commas
	Prompt                      string   // authorization_params.prompt
}

// Sim is one simulated Nango environment. It is safe for concurrent use.
type Sim struct {
	opts  Options
	users map[string]*Sim // by connection id: Options.Users

	mu          sync.Mutex // guards everything below, including the mailbox
	box         *mailbox
	scopes      []string
	faults      []Fault
	requests    []Request
	sent        []json.RawMessage
	reconnects  []ReconnectRequest
	connects    connects // connection tags and Connect sessions (connect.go)
	inFlight    int
	maxInFlight int
	seq         int // numbers objects created at run time
}

var uuidV4 = regexp.MustCompile(`(?i)^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// New parses the fixture (testdata/mailbox.json) and resolves its relative
// times against opts.Now().
func New(fixture []byte, opts Options) (*Sim, error) {
	if opts.SecretKey == "" {
		opts.SecretKey = DefaultSecretKey
	}
	if !uuidV4.MatchString(opts.SecretKey) {
		return nil, fmt.Errorf("sim: the secret key %q is not a UUID v4, so Nango would reject it", opts.SecretKey)
	}
	if opts.IntegrationID == "" {
		opts.IntegrationID = "outlook"
	}
	if opts.ConnectionID == "" {
		opts.ConnectionID = "sandbox"
	}
	if opts.Scopes == nil {
		opts.Scopes = DefaultScopes
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	box, err := loadMailbox(fixture, opts.Now().UTC())
	if err != nil {
		return nil, fmt.Errorf("sim: fixture: %w", err)
	}
	users, err := newUsers(fixture, opts)
	if err != nil {
		return nil, err
	}
	return &Sim{opts: opts, users: users, box: box, scopes: slices.Clone(opts.Scopes)}, nil
}

func (s *Sim) now() time.Time { return s.opts.Now().UTC() }

// SetScopes changes the granted scopes at run time (e.g. the user re-consented).
func (s *Sim) SetScopes(scopes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scopes = slices.Clone(scopes)
}

// AddMessage adds a message to the mailbox at run time, written as one of
// the fixture's "messages" (JSON, times relative to now). Tests use it for
// mail the sample mailbox must not hold, such as a hostile attachment.
func (s *Sim) AddMessage(fixtureMessage []byte) error {
	var rm rawMessage
	dec := json.NewDecoder(bytes.NewReader(fixtureMessage))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rm); err != nil {
		return fmt.Errorf("sim: message: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !validID(rm.ID) || slices.ContainsFunc(s.box.messages, func(m *message) bool { return m.id == rm.ID }) {
		return fmt.Errorf("sim: message id %q is not valid or already used", rm.ID)
	}
	now := s.now()
	m, err := s.box.loadMessage(rm, clock{now: now.Truncate(time.Second), today: now.Truncate(24 * time.Hour)})
	if err != nil {
		return fmt.Errorf("sim: message %s: %w", rm.ID, err)
	}
	s.box.messages = append(s.box.messages, m)
	return nil
}

// Inject queues a fault. Faults are consumed in the order they were queued.
func (s *Sim) Inject(f Fault) {
	if f.Times <= 0 {
		f.Times = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f)
}

// Requests returns the requests received so far, in order (the latest
// maxRecorded/2 to maxRecorded of them in a very long session).
func (s *Sim) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Sent returns every message that left, in order: for sendMail the
// "message" object as the client sent it; for a sent draft, reply or
// forward, the message as Outlook composed it (subject, body with the
// original quoted, recipients, attachment names) in the same shape.
func (s *Sim) Sent() []json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sent)
}

// MaxInFlight is the highest number of simultaneous proxy requests seen.
func (s *Sim) MaxInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxInFlight
}

// Reconnects returns the reconnect sessions requested so far.
func (s *Sim) Reconnects() []ReconnectRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reconnects)
}

// takeFault consumes one use of the first queued fault matching the request.
// Nango-level faults (its own rate limit) and Graph-level ones are taken at
// different moments, hence nangoLevel.
// nangoLevel: the fault is Nango's own answer, before any call to Graph.
func (f *Fault) nangoLevel() bool { return f.NangoRateLimit || f.RefreshFailed }

func (s *Sim) takeFault(method, path string, nangoLevel bool) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.faults {
		f := &s.faults[i]
		if f.nangoLevel() != nangoLevel ||
			(f.Method != "" && !strings.EqualFold(f.Method, method)) ||
			!hasPrefixFold(path, f.Path) {
			continue
		}
		taken := *f
		if f.Times--; f.Times == 0 {
			s.faults = slices.Delete(s.faults, i, i+1)
		}
		return &taken
	}
	return nil
}

func (s *Sim) enter() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inFlight++
	s.maxInFlight = max(s.maxInFlight, s.inFlight)
}

func (s *Sim) leave() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inFlight--
}

// Client returns an *http.Client that calls ServeHTTP in-process, without
// sockets, whatever the request's host.
func (s *Sim) Client() *http.Client { return &http.Client{Transport: transport{s}} }

type transport struct{ h http.Handler }

func (t transport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		body, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	in := req.Clone(req.Context())
	in.Body = io.NopCloser(bytes.NewReader(body))
	in.ContentLength = int64(len(body))
	in.RequestURI = req.URL.RequestURI()
	in.RemoteAddr = "127.0.0.1:0"
	rec := &recorder{header: http.Header{}}
	t.h.ServeHTTP(rec, in)
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	return rec.response(req), nil
}

// recorder is a minimal http.ResponseWriter for the in-process transport.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}

func (r *recorder) response(req *http.Request) *http.Response {
	r.WriteHeader(http.StatusOK)
	return &http.Response{
		Status:        fmt.Sprintf("%d %s", r.status, http.StatusText(r.status)),
		StatusCode:    r.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        r.header,
		Body:          io.NopCloser(bytes.NewReader(r.body.Bytes())),
		ContentLength: int64(r.body.Len()),
		Request:       req,
	}
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
