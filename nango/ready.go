package nango

import (
	"context"
	"fmt"
	"net/http"
)

// CheckKey tells whether Nango answers and accepts the secret key for the
// proxy, with the least it can ask: a proxy request that names no
// connection. Nango checks the key and its proxy permission before it looks
// for the connection headers, so a usable key gets 400 invalid_headers:
// nothing reaches Graph, no connection is read, no credentials come back, and
// no permission is needed beyond environment:proxy, which every tool call
// needs anyway.
//
// Nango's rate limit (429) counts as accepted: the key was known, and the
// limit is the account's, which no single replica can fix.
func (c *Client) CheckKey(ctx context.Context) error {
	_, _, err := c.send(ctx, http.MethodGet, "/proxy/v1.0/me", nil, nil)
	if err == nil {
		return nil
	}
	e, ok := AsError(err)
	switch {
	case !ok:
		return err
	case e.Source == FromNango && (e.Code == "invalid_headers" || e.Kind == KindRateLimited):
		return nil
	case e.Kind == KindBadSecretKey:
		return fmt.Errorf("Nango rejected the server's secret key (%d %s): NANGO_SECRET_KEY must be a secret key of the Nango environment, with the proxy permission", e.Status, e.Code)
	}
	return fmt.Errorf("Nango at %s did not answer as expected: %v", c.host, e)
}
