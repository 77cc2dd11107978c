package nango

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// connectionInfo is the part of GET /connections/{id} we read.
type connectionInfo struct {
	Errors      []struct{ Type string } `json:"errors"`
	Credentials struct {
		Raw struct {
			Scope string `json:"scope"`
		} `json:"raw"`
	} `json:"credentials"`
}

// Scopes returns the scopes Microsoft granted the connection, cached for the
// configured TTL. When the secret key cannot read credentials the result is
// unknown (not an error): callers then rely on Graph's 403s.
func (c *Connection) Scopes(ctx context.Context) (Scopes, error) {
	fresh := func() bool { return !c.scopesAt.IsZero() && time.Since(c.scopesAt) < c.client.cfg.ScopeTTL }
	return c.scopesUnless(ctx, fresh)
}

// RefreshScopes refetches the granted scopes, for use after Graph answered
// 403: the user may have re-consented, or lost a permission. A burst of 403s
// shares one refetch: refreshes less than a few seconds apart reuse it.
func (c *Connection) RefreshScopes(ctx context.Context) (Scopes, error) {
	recent := func() bool { return time.Since(c.refreshedAt) < 5*time.Second }
	s, err := c.scopesUnless(ctx, recent)
	if err == nil {
		c.mu.Lock()
		c.refreshedAt = c.scopesAt
		c.mu.Unlock()
	}
	return s, err
}

// scopesUnless fetches the scopes unless current() says the cached ones
// will do. One fetch runs at a time; callers wait for it only as long as
// their own context allows, and reuse its answer.
func (c *Connection) scopesUnless(ctx context.Context, current func() bool) (Scopes, error) {
	c.mu.Lock()
	if current() {
		defer c.mu.Unlock()
		return c.scopes, nil
	}
	c.mu.Unlock()
	select {
	case c.fetching <- struct{}{}:
		defer func() { <-c.fetching }()
	case <-ctx.Done():
		return Scopes{}, ctx.Err()
	}
	c.mu.Lock()
	if current() { // another caller fetched while this one waited
		defer c.mu.Unlock()
		return c.scopes, nil
	}
	c.mu.Unlock()
	return c.fetchScopes(ctx)
}

// fetchScopes reads the connection; the caller holds c.fetching.
func (c *Connection) fetchScopes(ctx context.Context) (Scopes, error) {
	q := url.Values{"provider_config_key": {c.integration}}
	_, data, err := c.client.send(ctx, http.MethodGet, "/connections/"+url.PathEscape(c.id)+"?"+q.Encode(), nil, nil)
	if err != nil {
		return Scopes{}, err
	}
	var info connectionInfo
	if err := json.Unmarshal(data, &info); err != nil {
		return Scopes{}, &Error{Source: FromNango, Kind: KindOther, Message: "unexpected connection answer: " + err.Error()}
	}
	for _, e := range info.Errors {
		if e.Type == "auth" || e.Type == "" {
			return Scopes{}, &Error{Source: FromNango, Kind: KindReauthorize, Code: "connection_error",
				Message: "the connection's last token refresh failed"}
		}
	}
	s := Scopes{}
	if raw := strings.TrimSpace(info.Credentials.Raw.Scope); raw != "" {
		s = ParseScopes(raw)
	}
	c.mu.Lock()
	c.scopes, c.scopesAt = s, time.Now()
	c.mu.Unlock()
	return s, nil
}

// ReconnectLink creates a Nango Connect session that lets the user
// re-authorize the connection with the given scopes (offline_access is
// added, and consent is prompted). It is best effort: callers show the link
// when there is one and carry on without it otherwise. Links are reused
// while they stay valid.
func (c *Connection) ReconnectLink(ctx context.Context, scopes []string) (string, error) {
	scopes = withOfflineAccess(scopes)
	key := strings.Join(scopes, ",")
	c.mu.Lock()
	if l, ok := c.reconnect[key]; ok && time.Until(l.expires) > 5*time.Minute {
		c.mu.Unlock()
		return l.url, nil
	}
	c.mu.Unlock()

	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	integration := c.integration
	body, _ := json.Marshal(map[string]any{
		"connection_id":  c.id,
		"integration_id": integration,
		"integrations_config_defaults": map[string]any{
			integration: map[string]any{
				"connection_config":    map[string]any{"oauth_scopes_override": key},
				"authorization_params": map[string]any{"prompt": "consent"},
			},
		},
	})
	_, data, err := c.client.send(ctx, http.MethodPost, "/connect/sessions/reconnect", nil, body)
	if err != nil {
		return "", err
	}
	var out struct {
		Data struct {
			ConnectLink string    `json:"connect_link"`
			ExpiresAt   time.Time `json:"expires_at"`
		} `json:"data"`
	}
	if err := json.Unmarshal(data, &out); err != nil || out.Data.ConnectLink == "" {
		return "", &Error{Source: FromNango, Kind: KindOther, Message: "no connect_link in the reconnect session"}
	}
	if out.Data.ExpiresAt.IsZero() {
		out.Data.ExpiresAt = time.Now().Add(30 * time.Minute)
	}
	c.mu.Lock()
	if c.reconnect == nil {
		c.reconnect = map[string]reconnectLink{}
	}
	c.reconnect[key] = reconnectLink{url: out.Data.ConnectLink, expires: out.Data.ExpiresAt}
	c.mu.Unlock()
	return out.Data.ConnectLink, nil
}

// withOfflineAccess puts offline_access first (without it Microsoft issues
// no refresh token) and drops duplicates.
func withOfflineAccess(scopes []string) []string {
	out := []string{"offline_access"}
	for _, s := range scopes {
		if !slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, s) }) {
			out = append(out, s)
		}
	}
	return out
}
