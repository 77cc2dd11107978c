package sim

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// nangoError is one of Nango's own errors: {"error":{"code":"snake_case",...}}.
type nangoError struct {
	status  int
	code    string
	message string
	issues  []issue // zod validation issues, for invalid_body / invalid_query_params
	header  http.Header
}

// issue is a zod validation issue as Nango reports it.
type issue struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Path    []any  `json:"path"`
}

func (e *nangoError) write(w http.ResponseWriter) {
	body := map[string]any{"code": e.code}
	if e.message != "" {
		body["message"] = e.message
	}
	if e.issues != nil {
		body["errors"] = e.issues
	}
	for k, v := range e.header {
		w.Header()[k] = v
	}
	writeJSON(w, e.status, "application/json; charset=utf-8", map[string]any{"error": body})
}

func writeJSON(w http.ResponseWriter, status int, contentType string, v any) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	w.Write(marshal(v))
}

// marshal encodes v without HTML escaping: Graph writes "<html>" in bodies
// as is, not "\u003chtml\u003e".
func marshal(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err) // only our own values are encoded
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// ServeHTTP is the whole fake Nango API: the proxy to Graph, the connection
// endpoint and connect sessions.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		(&nangoError{status: 400, code: "invalid_body", message: "could not read the request body"}).write(w)
		return
	}
	path := r.URL.Path
	proxy := path == "/proxy" || strings.HasPrefix(path, "/proxy/")
	s.record(r, body, proxy)

	if e := s.authenticate(r); e != nil {
		e.write(w)
		return
	}
	switch {
	case proxy:
		if u := s.users[r.Header.Get("Connection-Id")]; u != nil {
			u.serveProxy(w, r, body)
			return
		}
		s.serveProxy(w, r, body)
	case r.Method == http.MethodGet && connectionPath(path) != "":
		if u := s.users[connectionPath(path)]; u != nil {
			u.serveConnection(w, r, connectionPath(path))
			return
		}
		s.serveConnection(w, r, connectionPath(path))
	case r.Method == http.MethodPost && path == "/connect/sessions/reconnect":
		s.serveReconnect(w, r, body)
	case r.Method == http.MethodGet && path == "/connections":
		s.serveConnections(w, r)
	case r.Method == http.MethodPost && path == "/connect/sessions":
		s.serveConnectSession(w, r, body)
	default:
		(&nangoError{status: 404, code: "not_found", message: fmt.Sprintf("Route %s %s does not exist", r.Method, path)}).write(w)
	}
}

// connectionPath returns the connection id of GET /connections/{id} or of
// the older /connection/{id}, else "".
func connectionPath(path string) string {
	for _, prefix := range []string{"/connections/", "/connection/"} {
		if id, ok := strings.CutPrefix(path, prefix); ok && id != "" && !strings.Contains(id, "/") {
			return id
		}
	}
	return ""
}

func (s *Sim) record(r *http.Request, body []byte, proxy bool) {
	req := Request{
		Method:      r.Method,
		Path:        r.URL.Path,
		RawPath:     r.URL.EscapedPath(),
		Query:       r.URL.Query(),
		NangoHeader: r.Header.Clone(),
		Body:        body,
		Proxy:       proxy,
	}
	if proxy {
		req.RawPath = strings.TrimPrefix(req.RawPath, "/proxy")
		req.Path = segmentPath(req.RawPath)
		req.Header = forwardedHeaders(r.Header)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.requests) == maxRecorded {
		// A long --sandbox session must not grow without bound.
		s.requests = slices.Delete(s.requests, 0, maxRecorded/2)
	}
	s.requests = append(s.requests, req)
}

// maxRecorded bounds Requests(): far more than any test makes.
const maxRecorded = 10000

// segmentPath unescapes a path segment by segment, keeping an escaped "/"
// as %2F: the result has the segments Graph parses, so an id holding
// "../users" cannot look like a path to /users.
func segmentPath(raw string) string {
	segs := strings.Split(raw, "/")
	for i, seg := range segs {
		if u, err := url.PathUnescape(seg); err == nil {
			segs[i] = strings.ReplaceAll(u, "/", "%2F")
		}
	}
	return strings.Join(segs, "/")
}

// forwardedHeaders are the headers Graph sees: Nango forwards only
// Nango-Proxy-<Name> headers, as <Name>.
func forwardedHeaders(h http.Header) http.Header {
	const prefix = "Nango-Proxy-"
	out := http.Header{}
	for k, v := range h {
		if hasPrefixFold(k, prefix) && len(k) > len(prefix) {
			name := http.CanonicalHeaderKey(k[len(prefix):])
			out[name] = append(out[name], v...)
		}
	}
	return out
}

// authenticate mirrors Nango's access middleware, messages included.
func (s *Sim) authenticate(r *http.Request) *nangoError {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return &nangoError{status: 401, code: "missing_auth_header", message: "Authentication failed. The request is missing the Authorization header."}
	}
	// Nango takes authorizationHeader.split('Bearer ').pop().
	key := auth
	if i := strings.LastIndex(auth, "Bearer "); i >= 0 {
		key = auth[i+len("Bearer "):]
	}
	switch {
	case key == "":
		return &nangoError{status: 401, code: "malformed_auth_header", message: "Authentication failed. The Authorization header is malformed."}
	case !uuidV4.MatchString(key):
		return &nangoError{status: 401, code: "invalid_secret_key_format", message: "Authentication failed. The provided secret key is not a UUID v4."}
	case key != s.opts.SecretKey:
		return &nangoError{status: 401, code: "unknown_account", message: "Authentication failed. The provided authorization header does not match any account."}
	}
	return nil
}

// serveProxy forwards one request to the simulated Graph.
func (s *Sim) serveProxy(w http.ResponseWriter, r *http.Request, body []byte) {
	integration, connection := r.Header.Get("Provider-Config-Key"), r.Header.Get("Connection-Id")
	var missing []string
	if connection == "" {
		missing = append(missing, "Connection-Id")
	}
	if integration == "" {
		missing = append(missing, "Provider-Config-Key")
	}
	switch {
	case missing != nil:
		(&nangoError{status: 400, code: "invalid_headers", message: "Missing required headers: " + strings.Join(missing, ", ")}).write(w)
		return
	case integration != s.opts.IntegrationID:
		(&nangoError{status: 404, code: "unknown_provider_config", message: fmt.Sprintf("Provider config %s not found", integration)}).write(w)
		return
	case connection != s.opts.ConnectionID:
		// Nango answers 400, not 404, for an unknown connection on the proxy.
		(&nangoError{status: 400, code: "server_error", message: "Failed to get connection"}).write(w)
		return
	case s.opts.RefreshFailed:
		(&nangoError{status: 400, code: "server_error", message: "Failed to get connection credentials: 'The external API returned an error when trying to refresh the access token. Please try again later.'"}).write(w)
		return
	}

	s.enter()
	defer s.leave()
	graphPath := strings.TrimPrefix(r.URL.EscapedPath(), "/proxy")
	if f := s.takeFault(r.Method, graphPath, true); f != nil {
		if f.RefreshFailed {
			(&nangoError{status: 400, code: "invalid_credentials", message: "The external API returned an error when trying to refresh the access token. Please try again later."}).write(w)
			return
		}
		nangoRateLimit(f, s.now()).write(w)
		return
	}
	if !sleep(r.Context(), s.opts.Latency) {
		return // the caller gave up
	}

	// Nango retries inside the open request when asked to (Retries header):
	// each retry reaches Graph again, so a retried send is sent twice. The
	// simulator does not wait Nango's backoff between attempts.
	retries, _ := strconv.Atoi(r.Header.Get("Retries"))
	retryOn := parseStatuses(r.Header.Get("Retry-On"))
	for attempt := 0; ; attempt++ {
		g := newGraphRequest(r, graphPath, body, s.now())
		f := s.takeFault(r.Method, graphPath, false)
		if f != nil && f.Hang {
			s.graph(g)
			<-r.Context().Done()
			return
		}
		resp := s.callGraph(g, f)
		st := resp.status
		if attempt < retries && (st >= 500 || st == 429 || st == 401 || slices.Contains(retryOn, st)) {
			continue
		}
		writeProxied(w, resp)
		return
	}
}

// callGraph runs one Graph request, applying a fault before or after its effect.
func (s *Sim) callGraph(g *graphReq, f *Fault) *graphResp {
	if f != nil && !f.AfterEffect {
		return s.graphError(g, faultError(f))
	}
	resp := s.graph(g)
	if f != nil {
		return s.graphError(g, faultError(f))
	}
	return resp
}

// writeProxied answers as Nango does with Graph's reply: errors pass through
// unchanged, but a non-streamed success becomes 200 (only 204 is kept), and
// an empty body (sendMail's 202) comes back as application/octet-stream.
func writeProxied(w http.ResponseWriter, resp *graphResp) {
	for k, v := range resp.header {
		w.Header()[k] = v
	}
	status := resp.status
	if status >= 200 && status < 300 && status != http.StatusNoContent {
		status = http.StatusOK
		if len(resp.body) == 0 {
			w.Header().Set("Content-Type", "application/octet-stream")
		}
	}
	w.WriteHeader(status)
	if status != http.StatusNoContent {
		w.Write(resp.body)
	}
}

func nangoRateLimit(f *Fault, now time.Time) *nangoError {
	retry := f.RetryAfter
	if retry == "" {
		retry = strconv.Itoa(60 - now.Second())
	}
	h := http.Header{}
	h.Set("Retry-After", retry)
	h.Set("X-RateLimit-Limit", "200")
	h.Set("X-RateLimit-Remaining", "0")
	h.Set("X-RateLimit-Reset", strconv.FormatInt(now.Truncate(time.Minute).Add(time.Minute).Unix(), 10))
	return &nangoError{status: 429, code: "too_many_request", message: "Too many requests. Please retry later.", header: h}
}

func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func parseStatuses(v string) []int {
	var out []int
	for _, f := range strings.Split(v, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// serveConnection is GET /connections/{id}?provider_config_key=X.
func (s *Sim) serveConnection(w http.ResponseWriter, r *http.Request, id string) {
	q := r.URL.Query()
	var issues []issue
	for k := range q {
		if k != "provider_config_key" && k != "refresh_token" && k != "force_refresh" {
			issues = append(issues, issue{Code: "unrecognized_keys", Message: fmt.Sprintf("Unrecognized key: %q", k), Path: []any{}})
		}
	}
	if q.Get("provider_config_key") == "" {
		issues = append(issues, issue{Code: "invalid_type", Message: "Invalid input: expected string, received undefined", Path: []any{"provider_config_key"}})
	}
	if issues != nil {
		(&nangoError{status: 400, code: "invalid_query_params", issues: issues}).write(w)
		return
	}
	if q.Get("provider_config_key") != s.opts.IntegrationID {
		(&nangoError{status: 400, code: "unknown_provider_config", message: "Provider does not exists"}).write(w)
		return
	}
	if id != s.opts.ConnectionID {
		(&nangoError{status: 404, code: "not_found", message: "Failed to find connection"}).write(w)
		return
	}

	s.mu.Lock()
	scopes := slices.Clone(s.scopes)
	me := s.box.me
	s.mu.Unlock()

	now := s.now()
	created := now.AddDate(0, 0, -41).Truncate(time.Hour).Add(17*time.Minute + 43*time.Second)
	expires := now.Truncate(time.Minute).Add(53 * time.Minute)
	errs := []any{}
	if s.opts.RefreshFailed {
		expires = now.Add(-2 * time.Hour).Truncate(time.Minute)
		errs = append(errs, map[string]any{"type": "auth", "log_id": "f3kq7xw2m9pd"})
	}
	credentials := map[string]any{}
	if !s.opts.HideCredentials {
		token := fakeAccessToken(me, scopes, expires)
		raw := map[string]any{
			"token_type":     "Bearer",
			"scope":          scopeString(scopes, s.opts.ScopeFormat),
			"expires_in":     3599,
			"ext_expires_in": 3599,
			"access_token":   token,
		}
		credentials = map[string]any{
			"type":         "OAUTH2",
			"access_token": token,
			"expires_at":   jsISO(expires),
			"raw":          raw,
		}
		if q.Get("refresh_token") == "true" {
			refresh := "M.C540_BAY.0.U.-Cr1sTm4PpYx2vWq8dZk3N0bL7hQe5Jf9Rg6Ta1Uc4Vi*Ws!Xo2Yn8Zm$"
			credentials["refresh_token"] = refresh
			raw["refresh_token"] = refresh
		}
	}
	writeJSON(w, 200, "application/json; charset=utf-8", map[string]any{
		"id":                   48213,
		"connection_id":        s.opts.ConnectionID,
		"provider_config_key":  s.opts.IntegrationID,
		"provider":             "microsoft",
		"errors":               errs,
		"end_user":             nil,
		"tags":                 s.connectionTags(),
		"metadata":             nil,
		"connection_config":    map[string]any{},
		"webhook_url_override": nil,
		"created_at":           jsISO(created),
		"updated_at":           jsISO(now.Add(-7 * time.Minute).Truncate(time.Second)),
		"last_fetched_at":      jsISO(now.Add(-2 * time.Minute).Truncate(time.Second)),
		"credentials":          credentials,
	})
}

// oidcScopes are sign-in scopes Microsoft lists without the Graph prefix.
var oidcScopes = []string{"offline_access", "openid", "profile", "email"}

// scopeString writes the granted scopes as Microsoft's token response does:
// Graph permissions (prefixed in ScopesURL form), offline_access, then the
// sign-in scopes.
func scopeString(scopes []string, format ScopeFormat) string {
	var out []string
	signIn := []string{"openid", "profile", "email"}
	if format == ScopesURL {
		signIn = []string{"openid"}
	}
	add := func(sc string) {
		if !slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, sc) }) {
			out = append(out, sc)
		}
	}
	for _, sc := range scopes {
		sc = trimResource(sc)
		switch {
		case strings.EqualFold(sc, "offline_access"):
			add(sc)
		case slices.Contains(oidcScopes, strings.ToLower(sc)):
			if !slices.Contains(signIn, strings.ToLower(sc)) {
				signIn = append(signIn, strings.ToLower(sc))
			}
		case format == ScopesURL:
			add(graphResource + sc)
		default:
			add(sc)
		}
	}
	for _, sc := range signIn {
		add(sc)
	}
	return strings.Join(out, " ")
}

const graphResource = "https://graph.microsoft.com/"

// trimResource strips the Graph resource prefix of a scope.
func trimResource(scope string) string {
	if hasPrefixFold(scope, graphResource) {
		return scope[len(graphResource):]
	}
	return scope
}

// fakeAccessToken looks like an Entra ID access token (a JWT whose "scp"
// lists the delegated scopes) but carries no valid signature.
func fakeAccessToken(me *user, scopes []string, exp time.Time) string {
	enc := base64.RawURLEncoding
	header := enc.EncodeToString([]byte(`{"typ":"JWT","nonce":"sandbox","alg":"RS256","x5t":"sandbox","kid":"sandbox"}`))
	var graph []string
	for _, sc := range scopes {
		if !slices.Contains(oidcScopes, strings.ToLower(sc)) {
			graph = append(graph, trimResource(sc))
		}
	}
	claims := enc.EncodeToString(marshal(map[string]any{
		"aud": "00000003-0000-0000-c000-000000000000",
		"iss": "https://sts.windows.net/" + tenantID + "/",
		"exp": exp.Unix(),
		"scp": strings.Join(append(graph, "profile", "openid", "email"), " "),
		"upn": me.UserPrincipalName,
		"oid": me.ID,
		"tid": tenantID,
	}))
	return header + "." + claims + ".c2FuZGJveC1zaWduYXR1cmUtbm90LXZhbGlk"
}

// tenantID is the fictional Entra tenant of the sample mailbox.
const tenantID = "6f2e8b41-3c9d-4a7e-b5f0-2d8c1e9a4b37"

// jsISO formats t as JavaScript's Date.toISOString does.
func jsISO(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// serveReconnect is POST /connect/sessions/reconnect, validated as Nango's
// postConnectSessionsReconnect does (strict body, connection lookup).
func (s *Sim) serveReconnect(w http.ResponseWriter, r *http.Request, body []byte) {
	if s.opts.DenyReconnect {
		(&nangoError{status: 403, code: "forbidden", message: "Insufficient scope. Required: environment:connect_sessions:write"}).write(w)
		return
	}
	if len(r.URL.Query()) > 0 {
		(&nangoError{status: 400, code: "invalid_query_params", issues: []issue{{Code: "unrecognized_keys", Message: "Unrecognized key(s) in query", Path: []any{}}}}).write(w)
		return
	}
	type configDefaults struct {
		UserScopes          string            `json:"user_scopes"`
		AuthorizationParams map[string]string `json:"authorization_params"`
		ConnectionConfig    struct {
			OAuthScopesOverride string `json:"oauth_scopes_override"`
		} `json:"connection_config"`
	}
	var req struct {
		ConnectionID               *string                   `json:"connection_id"`
		IntegrationID              *string                   `json:"integration_id"`
		EndUser                    json.RawMessage           `json:"end_user"`
		Organization               json.RawMessage           `json:"organization"`
		IntegrationsConfigDefaults map[string]configDefaults `json:"integrations_config_defaults"`
		Overrides                  json.RawMessage           `json:"overrides"`
		WebhookURLOverride         json.RawMessage           `json:"webhook_url_override"`
		Tags                       json.RawMessage           `json:"tags"`
	}
	if !decodeStrictBody(w, body, &req) {
		return
	}
	var issues []issue
	if req.ConnectionID == nil || *req.ConnectionID == "" {
		issues = append(issues, issue{Code: "invalid_type", Message: "Invalid input: expected string, received undefined", Path: []any{"connection_id"}})
	}
	if req.IntegrationID == nil || *req.IntegrationID == "" {
		issues = append(issues, issue{Code: "invalid_type", Message: "Invalid input: expected string, received undefined", Path: []any{"integration_id"}})
	}
	if issues != nil {
		(&nangoError{status: 400, code: "invalid_body", issues: issues}).write(w)
		return
	}
	if s.user(*req.ConnectionID) == nil || *req.IntegrationID != s.opts.IntegrationID {
		(&nangoError{status: 400, code: "invalid_body", message: "ConnectionID or IntegrationId does not exists"}).write(w)
		return
	}
	for key := range req.IntegrationsConfigDefaults {
		if key != s.opts.IntegrationID {
			issues = append(issues, issue{Code: "custom", Message: "Integration does not exist", Path: []any{"integrations_config_defaults", key}})
		}
	}
	if issues != nil {
		(&nangoError{status: 400, code: "invalid_body", issues: issues}).write(w)
		return
	}

	rec := ReconnectRequest{ConnectionID: *req.ConnectionID, IntegrationID: *req.IntegrationID}
	if d, ok := req.IntegrationsConfigDefaults[s.opts.IntegrationID]; ok {
		for _, sc := range strings.Split(d.ConnectionConfig.OAuthScopesOverride, ",") {
			if sc = strings.TrimSpace(sc); sc != "" {
				rec.Scopes = append(rec.Scopes, sc)
			}
		}
		rec.Prompt = d.AuthorizationParams["prompt"]
	}
	s.mu.Lock()
	s.reconnects = append(s.reconnects, rec)
	s.mu.Unlock()

	token := "nango_connect_session_" + randomHex(32)
	writeJSON(w, 201, "application/json; charset=utf-8", map[string]any{"data": map[string]any{
		"token":        token,
		"connect_link": "https://connect.nango.dev/?session_token=" + url.QueryEscape(token),
		"expires_at":   jsISO(s.now().Add(30 * time.Minute)),
	}})
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// newUUID returns a random UUID v4, as Graph's request ids are.
func newUUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// decodeStrictBody decodes a request body as Nango's zod .strict() schemas
// do: an unknown field is a 400 invalid_body, answered here (false).
func decodeStrictBody(w http.ResponseWriter, body []byte, v any) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		(&nangoError{status: 400, code: "invalid_body", issues: []issue{{Code: "custom", Message: err.Error(), Path: []any{}}}}).write(w)
		return false
	}
	return true
}
