package sim

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// graphReq is one request as Graph sees it behind the Nango proxy.
type graphReq struct {
	method  string
	path    string   // escaped path as received, e.g. /v1.0/me/messages
	segs    []string // unescaped segments after the version
	params  map[string]string
	query   url.Values
	rawQ    string
	header  http.Header // Graph-visible headers only
	body    []byte
	now     time.Time
	reqID   string
	prefs   map[string]string // Prefer preferences, lower-case name -> unquoted value
	applied []string          // Preference-Applied values
}

// graphResp is Graph's answer, before Nango rewrites success statuses.
type graphResp struct {
	status int
	header http.Header
	body   []byte
}

// reply is what a handler returns on success.
type reply struct {
	status      int // 0 = 200
	body        any // encoded as JSON; nil = empty body
	raw         []byte
	contentType string // set with raw
}

// graphError is a Graph error: {"error":{"code":"PascalCase","message":...}}.
type graphError struct {
	status     int
	code       string
	message    string
	retryAfter string
}

func (e *graphError) Error() string { return fmt.Sprintf("%d %s: %s", e.status, e.code, e.message) }

func gerr(status int, code, format string, args ...any) *graphError {
	return &graphError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// Errors Graph returns in many places.
var (
	errNotFound     = gerr(404, "ErrorItemNotFound", "The specified object was not found in the store.")
	errMalformedID  = gerr(400, "ErrorInvalidIdMalformed", "Id is malformed.")
	errAccessDenied = gerr(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
	errDirDenied    = gerr(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
)

func badRequest(format string, args ...any) *graphError {
	return gerr(400, "BadRequest", format, args...)
}

// route is one Graph endpoint: its method, path pattern (segments after
// the version; {name} captures), the scopes of which any one grants it, and
// the error Graph gives when none is granted.
type route struct {
	method  string
	pattern []string
	scopes  []string
	denied  *graphError
	handle  func(*Sim, *graphReq) (*reply, error)
}

// Scope sets, from the "least to most privileged" permissions table of
// each endpoint's page in Microsoft Graph's API reference.
var (
	scopesMailList = []string{"Mail.ReadBasic", "Mail.Read", "Mail.ReadWrite"}
	scopesMailRead = []string{"Mail.Read", "Mail.ReadWrite"}
	scopesMailSend = []string{"Mail.Send"} // Mail.ReadWrite does not include sending
	scopesMailEdit = []string{"Mail.ReadWrite"}
	scopesCalRead  = []string{"Calendars.ReadBasic", "Calendars.Read", "Calendars.ReadWrite"}
	scopesContacts = []string{"Contacts.Read", "Contacts.ReadWrite"}
	scopesPeople   = []string{"People.Read", "People.Read.All"}
	scopesUsers    = []string{"User.ReadBasic.All", "User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	scopesMe       = append([]string{"User.Read", "User.ReadWrite"}, scopesUsers...)

	scopesCalWrite    = []string{"Calendars.ReadWrite"}
	scopesSchedule    = []string{"Calendars.Read", "Calendars.ReadWrite"}
	scopesMeetingTime = []string{"Calendars.Read.Shared", "Calendars.ReadWrite.Shared"}

	scopesContactsWrite = []string{"Contacts.ReadWrite"}
	scopesSettingsRead  = []string{"MailboxSettings.Read", "MailboxSettings.ReadWrite"}
	scopesSettingsWrite = []string{"MailboxSettings.ReadWrite"}
)

// routes is the Graph surface the simulator knows. Add endpoints here.
var routes = []route{
	ep("GET", "me", scopesMe, errDirDenied, (*Sim).getMe),
	ep("GET", "users", scopesUsers, errDirDenied, (*Sim).listUsers),
	ep("GET", "users/{user}", scopesUsers, errDirDenied, (*Sim).getUser),

	ep("GET", "me/mailFolders", scopesMailList, errAccessDenied, (*Sim).listFolders),
	ep("GET", "me/mailFolders/{folder}", scopesMailList, errAccessDenied, (*Sim).getFolder),
	ep("GET", "me/messages", scopesMailList, errAccessDenied, (*Sim).listMessages),
	ep("GET", "me/mailFolders/{folder}/messages", scopesMailList, errAccessDenied, (*Sim).listMessages),
	ep("GET", "me/messages/{id}", scopesMailRead, errAccessDenied, (*Sim).getMessage),
	ep("GET", "me/mailFolders/{folder}/messages/{id}", scopesMailRead, errAccessDenied, (*Sim).getMessage),
	ep("GET", "me/messages/{id}/attachments", scopesMailRead, errAccessDenied, (*Sim).listAttachments),
	ep("GET", "me/messages/{id}/attachments/{att}", scopesMailRead, errAccessDenied, (*Sim).getAttachment),
	ep("GET", "me/messages/{id}/attachments/{att}/$value", scopesMailRead, errAccessDenied, (*Sim).getAttachmentValue),
	ep("POST", "me/sendMail", scopesMailSend, errAccessDenied, (*Sim).sendMail),
	ep("POST", "me/messages", scopesMailEdit, errAccessDenied, (*Sim).createMessage),
	ep("PATCH", "me/messages/{id}", scopesMailEdit, errAccessDenied, (*Sim).updateMessage),
	ep("POST", "me/messages/{id}/send", scopesMailSend, errAccessDenied, (*Sim).sendDraft),
	ep("POST", "me/messages/{id}/reply", scopesMailSend, errAccessDenied, answer("reply", false)),
	ep("POST", "me/messages/{id}/replyAll", scopesMailSend, errAccessDenied, answer("replyAll", false)),
	ep("POST", "me/messages/{id}/forward", scopesMailSend, errAccessDenied, answer("forward", false)),
	ep("POST", "me/messages/{id}/createReply", scopesMailEdit, errAccessDenied, answer("reply", true)),
	ep("POST", "me/messages/{id}/createReplyAll", scopesMailEdit, errAccessDenied, answer("replyAll", true)),
	ep("POST", "me/messages/{id}/createForward", scopesMailEdit, errAccessDenied, answer("forward", true)),
	ep("GET", "me/mailFolders/{folder}/childFolders", scopesMailList, errAccessDenied, (*Sim).listChildFolders),
	ep("POST", "me/messages/{id}/move", scopesMailEdit, errAccessDenied, (*Sim).moveMessage),

	ep("GET", "me/calendars", scopesCalRead, errAccessDenied, (*Sim).listCalendars),
	ep("GET", "me/calendar/calendarView", scopesCalRead, errAccessDenied, (*Sim).calendarView),
	ep("GET", "me/calendarView", scopesCalRead, errAccessDenied, (*Sim).calendarView),
	ep("GET", "me/calendars/{calendar}/calendarView", scopesCalRead, errAccessDenied, (*Sim).calendarView),
	ep("GET", "me/events", scopesCalRead, errAccessDenied, (*Sim).listEvents),
	ep("GET", "me/calendars/{calendar}/events", scopesCalRead, errAccessDenied, (*Sim).listEvents),
	ep("GET", "me/events/{id}", scopesCalRead, errAccessDenied, (*Sim).getEvent),

	ep("POST", "me/events", scopesCalWrite, errAccessDenied, (*Sim).createEvent),
	ep("POST", "me/calendars/{calendar}/events", scopesCalWrite, errAccessDenied, (*Sim).createEvent),
	ep("PATCH", "me/events/{id}", scopesCalWrite, errAccessDenied, (*Sim).updateEvent),
	ep("POST", "me/events/{id}/cancel", scopesCalWrite, errAccessDenied, (*Sim).cancelEvent),
	ep("POST", "me/events/{id}/accept", scopesCalWrite, errAccessDenied, respondEvent("accept")),
	ep("POST", "me/events/{id}/tentativelyAccept", scopesCalWrite, errAccessDenied, respondEvent("tentativelyAccept")),
	ep("POST", "me/events/{id}/decline", scopesCalWrite, errAccessDenied, respondEvent("decline")),
	ep("POST", "me/calendar/getSchedule", scopesSchedule, errAccessDenied, (*Sim).getSchedule),
	ep("POST", "me/findMeetingTimes", scopesMeetingTime, errAccessDenied, (*Sim).findMeetingTimes),

	ep("GET", "me/contacts", scopesContacts, errAccessDenied, (*Sim).listContacts),
	ep("GET", "me/contacts/{id}", scopesContacts, errAccessDenied, (*Sim).getContact),
	ep("GET", "me/people", scopesPeople, errAccessDenied, (*Sim).listPeople),

	ep("POST", "me/contacts", scopesContactsWrite, errAccessDenied, (*Sim).createContact),
	ep("GET", "me/mailboxSettings", scopesSettingsRead, errAccessDenied, (*Sim).getSettings),
	ep("PATCH", "me/mailboxSettings", scopesSettingsWrite, errAccessDenied, (*Sim).patchSettings),
}

func ep(method, pattern string, scopes []string, denied *graphError, h func(*Sim, *graphReq) (*reply, error)) route {
	return route{method: method, pattern: strings.Split(pattern, "/"), scopes: scopes, denied: denied, handle: h}
}

// match reports how many leading segments of segs the pattern matches, and
// whether it matches them all; params receives the captures.
func (rt *route) match(segs []string, params map[string]string) (int, bool) {
	n := 0
	for n < len(segs) && n < len(rt.pattern) {
		p := rt.pattern[n]
		if strings.HasPrefix(p, "{") {
			if params != nil {
				params[strings.Trim(p, "{}")] = segs[n]
			}
		} else if !strings.EqualFold(p, segs[n]) {
			break
		}
		n++
	}
	return n, n == len(segs) && n == len(rt.pattern)
}

func newGraphRequest(r *http.Request, path string, body []byte, now time.Time) *graphReq {
	query, _ := url.ParseQuery(r.URL.RawQuery)
	g := &graphReq{
		method: r.Method,
		path:   path,
		query:  query,
		rawQ:   r.URL.RawQuery,
		header: forwardedHeaders(r.Header),
		body:   body,
		now:    now,
		reqID:  newUUID(),
		params: map[string]string{},
	}
	g.prefs = parsePrefer(g.header.Values("Prefer"))
	return g
}

// graph dispatches one request: version, route, scope check, handler.
func (s *Sim) graph(g *graphReq) *graphResp {
	s.mu.Lock()
	defer s.mu.Unlock()
	rep, err := s.dispatch(g)
	if err != nil {
		return s.graphError(g, err)
	}
	resp := &graphResp{status: http.StatusOK, header: g.baseHeader()}
	if rep.status != 0 {
		resp.status = rep.status
	}
	switch {
	case rep.contentType != "":
		resp.header.Set("Content-Type", rep.contentType)
		resp.body = rep.raw
	case rep.body != nil:
		resp.header.Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
		resp.body = marshal(rep.body)
	}
	if len(g.applied) > 0 {
		resp.header.Set("Preference-Applied", strings.Join(g.applied, ","))
	}
	return resp
}

func (s *Sim) dispatch(g *graphReq) (*reply, error) {
	p := strings.TrimSuffix(g.path, "/")
	raw := strings.Split(strings.TrimPrefix(p, "/"), "/")
	if v := raw[0]; v != "v1.0" && v != "beta" {
		return nil, badRequest("Invalid version: %s", v)
	}
	for _, seg := range raw[1:] {
		u, err := url.PathUnescape(seg)
		if err != nil {
			return nil, badRequest("Invalid request path segment '%s'.", seg)
		}
		g.segs = append(g.segs, u)
	}
	if len(g.segs) == 0 {
		return nil, badRequest("Invalid request.")
	}
	best, methodMismatch := 0, false
	for i := range routes {
		rt := &routes[i]
		n, full := rt.match(g.segs, nil)
		best = max(best, n)
		if !full {
			continue
		}
		if rt.method != g.method {
			methodMismatch = true
			continue
		}
		rt.match(g.segs, g.params)
		if !s.hasAnyScope(rt.scopes) {
			return nil, rt.denied
		}
		for k := range g.query {
			if strings.HasPrefix(k, "$") && !slices.Contains(queryOptions, strings.ToLower(k)) {
				// A misspelt option is an error, not silently ignored.
				return nil, badRequest("Query option '%s' is not supported.", k)
			}
		}
		return rt.handle(s, g)
	}
	if methodMismatch {
		return nil, gerr(405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.")
	}
	seg := g.segs[min(best, len(g.segs)-1)]
	return nil, badRequest("Resource not found for the segment '%s'.", seg)
}

// queryOptions are the OData system query options Graph knows.
var queryOptions = []string{"$select", "$filter", "$orderby", "$top", "$skip", "$skiptoken", "$search", "$expand", "$count", "$format", "$deltatoken"}

// scopeImplies lists the permissions a granted scope includes.
var scopeImplies = map[string][]string{
	"mail.readwrite":      {"mail.read", "mail.readbasic"},
	"mail.read":           {"mail.readbasic"},
	"calendars.readwrite": {"calendars.read", "calendars.readbasic"},
	"calendars.read":      {"calendars.readbasic"},
	// The .Shared scopes are a separate pair: Calendars.ReadWrite does not
	// grant Calendars.Read.Shared, nor the reverse.
	"calendars.readwrite.shared": {"calendars.read.shared"},
	"contacts.readwrite":         {"contacts.read"},
	"people.read.all":            {"people.read"},
	"user.readwrite":             {"user.read"},
	"user.readwrite.all":         {"user.read.all", "user.readbasic.all"},
	"user.read.all":              {"user.readbasic.all"},
	"directory.readwrite.all":    {"directory.read.all"},

	"mailboxsettings.readwrite": {"mailboxsettings.read"},
}

// hasAnyScope reports whether any of the scopes is granted, hierarchies
// implied, case-insensitively. The caller holds s.mu.
func (s *Sim) hasAnyScope(scopes []string) bool {
	granted := map[string]bool{}
	for _, sc := range s.scopes {
		sc = strings.ToLower(trimResource(sc))
		granted[sc] = true
		for _, implied := range scopeImplies[sc] {
			granted[implied] = true
		}
	}
	return slices.ContainsFunc(scopes, func(sc string) bool { return granted[strings.ToLower(sc)] })
}

// graphError answers with err in Graph's error shape.
func (s *Sim) graphError(g *graphReq, err error) *graphResp {
	ge, ok := err.(*graphError)
	if !ok {
		ge = gerr(500, "InternalServerError", "%v", err)
	}
	h := g.baseHeader()
	h.Set("Content-Type", "application/json")
	if ge.retryAfter != "" {
		h.Set("Retry-After", ge.retryAfter)
	}
	body := map[string]any{"error": map[string]any{
		"code":    ge.code,
		"message": ge.message,
		"innerError": map[string]any{
			"date":              g.now.Format("2006-01-02T15:04:05"),
			"request-id":        g.reqID,
			"client-request-id": h.Get("client-request-id"),
		},
	}}
	return &graphResp{status: ge.status, header: h, body: marshal(body)}
}

// baseHeader is what every Graph response carries.
func (g *graphReq) baseHeader() http.Header {
	h := http.Header{}
	h.Set("request-id", g.reqID)
	clientID := g.header.Get("client-request-id")
	if clientID == "" {
		clientID = g.reqID
	}
	h.Set("client-request-id", clientID)
	h.Set("x-ms-ags-diagnostic", `{"ServerInfo":{"DataCenter":"West US 2","Slice":"E","Ring":"1","ScaleUnit":"003","RoleInstance":"MWH0EPF00056D3B"}}`)
	h.Set("Strict-Transport-Security", "max-age=31536000")
	h.Set("Date", g.now.Format(http.TimeFormat))
	return h
}

// faultError is the Graph error an injected fault produces.
func faultError(f *Fault) *graphError {
	type def struct{ code, message string }
	defaults := map[int]def{
		400: {"BadRequest", "Invalid request."},
		401: {"InvalidAuthenticationToken", "Access token has expired or is not yet valid."},
		403: {"ErrorAccessDenied", "Access is denied. Check credentials and try again."},
		404: {"ErrorItemNotFound", "The specified object was not found in the store."},
		409: {"ErrorIrresolvableConflict", "The send or update operation could not be performed because the change key passed in the request does not match the current change key for the item."},
		429: {"ApplicationThrottled", "Application is over its MailboxConcurrency limit."},
		500: {"InternalServerError", "An internal server error occurred. The operation failed."},
		502: {"BadGateway", "The server received an invalid response from an upstream server."},
		503: {"ServiceUnavailable", "The service is temporarily unavailable. Please retry later."},
		504: {"GatewayTimeout", "The operation timed out."},
	}
	d, ok := defaults[f.Status]
	if !ok {
		d = def{"UnknownError", "An unknown error occurred."}
	}
	if f.Code != "" && f.Code != d.code {
		d = def{f.Code, "Simulated " + f.Code + "."}
		for _, other := range defaults {
			if other.code == f.Code {
				d.message = other.message
			}
		}
	}
	return &graphError{status: f.Status, code: d.code, message: d.message, retryAfter: f.RetryAfter}
}

// parsePrefer reads RFC 7240 preferences from one or more Prefer headers,
// each possibly comma-separated: outlook.timezone="Pacific Standard Time".
func parsePrefer(values []string) map[string]string {
	prefs := map[string]string{}
	for _, v := range values {
		for _, item := range splitOutsideQuotes(v, ',') {
			name, val, _ := strings.Cut(strings.TrimSpace(item), "=")
			name = strings.ToLower(strings.TrimSpace(name))
			val = strings.TrimSpace(val)
			if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
				val = val[1 : len(val)-1]
			}
			if name != "" {
				prefs[name] = val
			}
		}
	}
	return prefs
}

func splitOutsideQuotes(s string, sep byte) []string {
	var out []string
	quoted, start := false, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			quoted = !quoted
		case sep:
			if !quoted {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

// prefer returns a preference and records it as applied, as Graph echoes
// the preferences it honoured in Preference-Applied.
func (g *graphReq) prefer(name string) (string, bool) {
	v, ok := g.prefs[strings.ToLower(name)]
	if ok {
		applied := fmt.Sprintf("%s=%q", name, v)
		if !slices.Contains(g.applied, applied) {
			g.applied = append(g.applied, applied)
		}
	}
	return v, ok
}

// bodyHTML reports whether bodies are wanted as HTML (Graph's default) or,
// with Prefer: outlook.body-content-type="text", as text.
func (g *graphReq) bodyHTML() bool {
	v, ok := g.prefs["outlook.body-content-type"]
	if !ok || (!strings.EqualFold(v, "text") && !strings.EqualFold(v, "html")) {
		return true
	}
	g.prefer("outlook.body-content-type")
	return strings.EqualFold(v, "html")
}

// immutableIDs reports whether Prefer: IdType="ImmutableId" asks for
// immutable ids. Graph then answers with another, shorter form of every
// item id (one that survives moves); paths accept either form.
func (g *graphReq) immutableIDs() bool {
	v, ok := g.prefs["idtype"]
	if ok {
		g.prefer("IdType")
	}
	return ok && strings.EqualFold(v, "ImmutableId")
}

// immutableID is the immutable form of an item's REST id.
func immutableID(restID string) string {
	return "AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0AZxJxsI8O3Uu5VXDLbx5j-QAB" + derivedID("", "immutable", restID)[:10] + "AAA="
}

// pickID returns the id form a request asked for.
func pickID(immutable bool, restID, immID string) string {
	if immutable {
		return immID
	}
	return restID
}

// validID reports whether id could be an Exchange id: base64url-ish and
// long enough. Graph rejects anything else with ErrorInvalidIdMalformed.
func validID(id string) bool {
	if len(id) < 16 {
		return false
	}
	for _, c := range id {
		ok := c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '='
		if !ok {
			return false
		}
	}
	return true
}

// lookup finds the object with the given Exchange id, in either form.
func lookup[T any](items []T, id string, idsOf func(T) (rest, immutable string)) (T, error) {
	var zero T
	if !validID(id) {
		return zero, errMalformedID
	}
	for _, it := range items {
		if rest, imm := idsOf(it); id == rest || id == imm {
			return it, nil
		}
	}
	return zero, errNotFound
}

const graphRoot = "https://graph.microsoft.com"

// contextURL is @odata.context: ctx is what follows "$metadata#".
func contextURL(ctx string, sel selection) string {
	if sel != nil {
		if strings.HasSuffix(ctx, "/$entity") {
			ctx = strings.TrimSuffix(ctx, "/$entity") + "(" + strings.Join(sel, ",") + ")/$entity"
		} else {
			ctx += "(" + strings.Join(sel, ",") + ")"
		}
	}
	return graphRoot + "/v1.0/$metadata#" + ctx
}

// mePath is how Graph names the signed-in user in @odata.context.
func (s *Sim) mePath() string { return "users('" + s.box.me.ID + "')" }
