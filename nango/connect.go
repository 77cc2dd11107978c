package nango

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// EndUser is a person as Nango tags the connections made for them through a
// Connect link: tags end_user_id and end_user_email.
type EndUser struct {
	ID    string
	Email string // optional
}

// ConnectionSummary is one entry of GET /connections (no credentials).
type ConnectionSummary struct {
	ConnectionID  string            `json:"connection_id"`
	IntegrationID string            `json:"provider_config_key"`
	Tags          map[string]string `json:"tags"`
	Created       string            `json:"created"`
}

// FindConnections lists this integration's connections whose tags all
// equal tags, newest first (Nango's order). It needs the key permission
// environment:connections:list.
//
// Nango's query schema is strict and its endUserId parameter does not read
// tags: a connection made from a tags-only Connect session is found only
// by tags[key]=value.
func (c *Client) FindConnections(ctx context.Context, tags map[string]string) ([]ConnectionSummary, error) {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := []string{"integrationId=" + url.QueryEscape(c.cfg.IntegrationID)}
	for _, k := range keys {
		// Literal brackets, as Nango's own SDK sends them.
		parts = append(parts, "tags["+url.QueryEscape(k)+"]="+url.QueryEscape(tags[k]))
	}
	_, data, err := c.send(ctx, http.MethodGet, "/connections?"+strings.Join(parts, "&"), nil, nil)
	if err != nil {
		return nil, err
	}
	var out struct {
		Connections []ConnectionSummary `json:"connections"`
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, &Error{Source: FromNango, Kind: KindOther, Message: "unexpected connections answer: " + err.Error()}
	}
	return out.Connections, nil
}

// ConnectLink makes a Nango Connect link (valid 30 minutes) where u connects
// an account of this integration; the connection Nango then creates carries
// u's tags. A link is reused for 20 minutes per end user, so a user who
// calls several tools before connecting gets one link, not one per call.
// It needs the key permission environment:connect_sessions:write.
func (c *Client) ConnectLink(ctx context.Context, u EndUser) (string, error) {
	c.mu.Lock()
	if l, ok := c.connectLinks[u]; ok && time.Now().Before(l.expires) {
		c.mu.Unlock()
		return l.url, nil
	}
	c.mu.Unlock()
	tags := map[string]string{"end_user_id": u.ID}
	if u.Email != "" {
		tags["end_user_email"] = u.Email
	}
	body, err := json.Marshal(map[string]any{
		"tags":                 tags,
		"allowed_integrations": []string{c.cfg.IntegrationID},
	})
	if err != nil {
		return "", err
	}
	_, data, err := c.send(ctx, http.MethodPost, "/connect/sessions", nil, body)
	if err != nil {
		return "", err
	}
	var out struct {
		Data struct {
			ConnectLink string `json:"connect_link"`
		} `json:"data"`
	}
	if err := json.Unmarshal(data, &out); err != nil || out.Data.ConnectLink == "" {
		return "", &Error{Source: FromNango, Kind: KindOther, Message: "unexpected connect session answer"}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.connectLinks == nil || len(c.connectLinks) >= maxConnectLinks {
		c.connectLinks = map[EndUser]reconnectLink{} // bounded: start over
	}
	c.connectLinks[u] = reconnectLink{url: out.Data.ConnectLink, expires: time.Now().Add(20 * time.Minute)}
	return out.Data.ConnectLink, nil
}

// maxConnectLinks bounds the links kept for reuse.
const maxConnectLinks = 10000
