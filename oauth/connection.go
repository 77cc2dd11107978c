package oauth

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/outlook-mcp/outlook-mcp/identity"
)

// connectionID is what a connection id made from claims may look like:
// what ids, emails and UUIDs are made of, and nothing that could change a
// Nango path or header (no "/", "..", "${", spaces or controls).
var connectionID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@+:|=-]{0,254}$`)

// endUser is who the token names, for the tags lookup and the Connect
// link: the configured claim's value, and an email when the token has one.
func (a *Authenticator) endUser(claims map[string]any) (identity.EndUser, error) {
	id, ok := claims[a.cfg.Claim].(string)
	if !ok || id == "" || len(id) > 255 || strings.ContainsFunc(id, isControl) {
		return identity.EndUser{}, fmt.Errorf("the access token has no usable %q claim to find your Outlook connection by", a.cfg.Claim)
	}
	u := identity.EndUser{ID: id}
	for _, name := range []string{"email", "preferred_username", "upn"} {
		if v, ok := claims[name].(string); ok && strings.Contains(v, "@") && len(v) <= 255 && !strings.ContainsFunc(v, isControl) {
			u.Email = v
			break
		}
	}
	return u, nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// fromTemplate builds the connection id from the token's claims. A claim
// that is missing, not a string, or not made of connection id characters
// is refused: it must never become another user's id or a path.
func (a *Authenticator) fromTemplate(claims map[string]any) (string, error) {
	var bad error
	id := placeholder.ReplaceAllStringFunc(a.cfg.Template, func(m string) string {
		name := m[1 : len(m)-1]
		v, ok := claims[name].(string)
		if !ok || v == "" || !connectionID.MatchString(v) {
			bad = fmt.Errorf("the access token's %q claim cannot name your Outlook connection (missing, or not made of letters, digits and . _ @ + : | = -)", name)
		}
		return v
	})
	if bad != nil {
		return "", bad
	}
	if !connectionID.MatchString(id) {
		return "", fmt.Errorf("the access token's claims do not make a valid connection id")
	}
	return id, nil
}

// findConnection returns the connection tagged end_user_id=userID in this
// integration, "" when there is none. Answers are cached; concurrent
// lookups of one user share one request to Nango.
func (a *Authenticator) findConnection(ctx context.Context, userID string) (string, error) {
	if id, ok := a.users.get(userID); ok {
		return id, nil
	}
	v, err, _ := a.users.flight.Do(userID, func() (any, error) {
		// Shared by every request of this user that waits on it: one
		// client giving up must not fail the others.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), lookupTimeout)
		defer cancel()
		found, err := a.cfg.Nango.FindConnections(ctx, map[string]string{"end_user_id": userID})
		if err != nil {
			return "", err
		}
		id := ""
		ttl := a.cfg.NotFoundTTL
		if len(found) > 0 {
			// Newest first: after a reconnect the newest is the live one.
			id, ttl = found[0].ConnectionID, a.cfg.FoundTTL
		}
		a.users.put(userID, id, ttl)
		return id, nil
	})
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

// lookupTimeout bounds one tags lookup in Nango.
const lookupTimeout = 15 * time.Second

// userCache remembers tags lookups: found for minutes, not found briefly,
// at most max users.
type userCache struct {
	max    int
	now    func() time.Time
	flight singleflight.Group

	mu      sync.Mutex
	entries map[string]cached
}

type cached struct {
	connection string
	until      time.Time
}

func newUserCache(max int, now func() time.Time) *userCache {
	return &userCache{max: max, now: now, entries: map[string]cached{}}
}

func (c *userCache) get(user string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[user]
	if !ok || !c.now().Before(e.until) {
		return "", false
	}
	return e.connection, true
}

func (c *userCache) put(user, connection string, ttl time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if len(c.entries) >= c.max {
		for k, e := range c.entries {
			if !now.Before(e.until) {
				delete(c.entries, k)
			}
		}
		for k := range c.entries { // still full: make room at random
			if len(c.entries) < c.max {
				break
			}
			delete(c.entries, k)
		}
	}
	c.entries[user] = cached{connection: connection, until: now.Add(ttl)}
}
