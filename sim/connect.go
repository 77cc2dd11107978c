package sim

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ConnectSession is the gist of one POST /connect/sessions.
type ConnectSession struct {
	Tags                map[string]string
	EndUserID           string // the deprecated end_user.id, when sent
	AllowedIntegrations []string
}

// connects is the state of connection listing and Connect sessions.
type connects struct {
	tags     map[string]string // the connection's tags
	sessions []ConnectSession
}

// SetConnectionTags sets the tags of the simulated connection, as Nango
// does when a user completes a Connect link made with tags; nil leaves it
// untagged. For one of Options.Users: s.User(id).SetConnectionTags.
func (s *Sim) SetConnectionTags(tags map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.connects.tags = maps.Clone(tags)
}

// ConnectSessions returns the POST /connect/sessions received so far.
func (s *Sim) ConnectSessions() []ConnectSession {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.connects.sessions)
}

// connectionTags is the connection's tags as Nango lists them: {} when none.
func (s *Sim) connectionTags() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.connects.tags == nil {
		return map[string]string{}
	}
	return maps.Clone(s.connects.tags)
}

// serveConnections is GET /connections, with the strict query schema of
// Nango's getConnections: unknown parameters are a 400, tags must all match,
// and endUserId matches only the deprecated end-user record (never tags).
func (s *Sim) serveConnections(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var issues []issue
	for k := range q {
		switch {
		case k == "connectionId", k == "search", k == "endUserId", k == "endUserOrganizationId", k == "integrationId", k == "page":
		case k == "limit":
			if n, err := strconv.Atoi(q.Get(k)); err != nil || n < 1 || n > 2000 {
				issues = append(issues, issue{Code: "too_big", Message: "Invalid limit: expected 1 to 2000", Path: []any{"limit"}})
			}
		case strings.HasPrefix(k, "tags[") && strings.HasSuffix(k, "]") && len(k) > len("tags[]"):
		default:
			issues = append(issues, issue{Code: "unrecognized_keys", Message: fmt.Sprintf("Unrecognized key: %q", k), Path: []any{}})
		}
	}
	if issues != nil {
		(&nangoError{status: 400, code: "invalid_query_params", issues: issues}).write(w)
		return
	}
	list := []any{}
	// Every connection's simulator lists itself: the environment's own, then
	// each of Options.Users in the order given.
	conns := []*Sim{s}
	for _, u := range s.opts.Users {
		conns = append(conns, s.users[u.ConnectionID])
	}
	for i, c := range conns {
		if entry, ok := c.listing(q); ok {
			entry["id"] = 48213 + i
			list = append(list, entry)
		}
	}
	writeJSON(w, 200, "application/json; charset=utf-8", map[string]any{"connections": list})
}

// listing is the connection as GET /connections lists it, if it matches
// the query's filters.
func (s *Sim) listing(q url.Values) (map[string]any, bool) {
	tags := s.connectionTags()
	if q.Get("endUserId") != "" || q.Get("endUserOrganizationId") != "" {
		return nil, false // no end_user record: connections here are tags-only
	}
	if ids := q.Get("integrationId"); ids != "" && !slices.Contains(strings.Split(ids, ","), s.opts.IntegrationID) {
		return nil, false
	}
	if id := q.Get("connectionId"); id != "" && id != s.opts.ConnectionID {
		return nil, false
	}
	if search := q.Get("search"); search != "" && !strings.Contains(s.opts.ConnectionID, search) {
		return nil, false
	}
	for k, v := range q {
		if name, ok := strings.CutPrefix(k, "tags["); ok && tags[strings.TrimSuffix(name, "]")] != v[0] {
			return nil, false
		}
	}
	return map[string]any{
		"id":                  48213,
		"connection_id":       s.opts.ConnectionID,
		"provider_config_key": s.opts.IntegrationID,
		"provider":            "microsoft",
		"errors":              []any{},
		"end_user":            nil,
		"tags":                tags,
		"metadata":            nil,
		"created":             jsISO(s.now().AddDate(0, 0, -41).Truncate(time.Hour)),
	}, true
}

// serveConnectSession is POST /connect/sessions: a link where an end user
// connects a new account. One of end_user (deprecated) or tags is required.
func (s *Sim) serveConnectSession(w http.ResponseWriter, r *http.Request, body []byte) {
	if s.opts.DenyReconnect { // the same key permission, connect_sessions:write
		(&nangoError{status: 403, code: "forbidden", message: "Insufficient scope. Required: environment:connect_sessions:write"}).write(w)
		return
	}
	var req struct {
		EndUser *struct {
			ID          string `json:"id"`
			Email       string `json:"email,omitempty"`
			DisplayName string `json:"display_name,omitempty"`
		} `json:"end_user"`
		Organization               json.RawMessage   `json:"organization"`
		AllowedIntegrations        []string          `json:"allowed_integrations"`
		IntegrationsConfigDefaults json.RawMessage   `json:"integrations_config_defaults"`
		Overrides                  json.RawMessage   `json:"overrides"`
		Tags                       map[string]string `json:"tags"`
	}
	if !decodeStrictBody(w, body, &req) {
		return
	}
	var issues []issue
	if req.EndUser == nil && req.Tags == nil {
		issues = append(issues, issue{Code: "custom", Message: "Either end_user or tags is required", Path: []any{}})
	}
	if len(req.Tags) > 10 {
		issues = append(issues, issue{Code: "too_big", Message: "At most 10 tags", Path: []any{"tags"}})
	}
	for i, id := range req.AllowedIntegrations {
		if id != s.opts.IntegrationID {
			issues = append(issues, issue{Code: "custom", Message: "Integration does not exist", Path: []any{"allowed_integrations", i}})
		}
	}
	if issues != nil {
		(&nangoError{status: 400, code: "invalid_body", issues: issues}).write(w)
		return
	}
	sess := ConnectSession{Tags: req.Tags, AllowedIntegrations: req.AllowedIntegrations}
	if req.EndUser != nil {
		sess.EndUserID = req.EndUser.ID
	}
	s.mu.Lock()
	s.connects.sessions = append(s.connects.sessions, sess)
	s.mu.Unlock()

	token := "nango_connect_session_" + randomHex(32)
	writeJSON(w, 201, "application/json; charset=utf-8", map[string]any{"data": map[string]any{
		"token":        token,
		"connect_link": "https://connect.nango.dev/?session_token=" + url.QueryEscape(token),
		"expires_at":   jsISO(s.now().Add(30 * time.Minute)),
	}})
}
