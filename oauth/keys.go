package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// keySet is the issuer's signing keys: found through its metadata, fetched
// on first use, refreshed when old, and refetched when a token names a key
// it does not hold (the issuer rotated its keys) — but never more often
// than once per minInterval, so a flood of tokens with made-up key ids
// cannot make this server hammer the issuer.
type keySet struct {
	issuer      string
	client      *http.Client
	minInterval time.Duration
	maxAge      time.Duration
	now         func() time.Time

	fetching chan struct{} // one fetch at a time

	mu        sync.Mutex // guards the fields below; never held across I/O
	jwksURL   string
	keys      []jose.JSONWebKey
	fetchedAt time.Time // last successful fetch
	triedAt   time.Time // last attempt, successful or not
	lastErr   error
}

// errUnknownKey: the token names a key the issuer does not publish.
var errUnknownKey = errors.New("the token's signing key is not one of the issuer's")

// errNoKeys: the issuer's keys could not be fetched at all; the fault is
// not the token's.
type errNoKeys struct{ err error }

func (e *errNoKeys) Error() string { return "cannot fetch the issuer's signing keys: " + e.err.Error() }
func (e *errNoKeys) Unwrap() error { return e.err }

func newKeySet(issuer string, client *http.Client, minInterval, maxAge time.Duration, now func() time.Time) *keySet {
	return &keySet{issuer: issuer, client: client, minInterval: minInterval, maxAge: maxAge, now: now, fetching: make(chan struct{}, 1)}
}

// key returns the key named kid ("" when the token names none: then the
// only key the issuer publishes, if it publishes one).
func (k *keySet) key(ctx context.Context, kid string) (*jose.JSONWebKey, error) {
	if key, fresh := k.lookup(kid); key != nil && fresh {
		return key, nil
	}
	select {
	case k.fetching <- struct{}{}:
		defer func() { <-k.fetching }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	key, fresh := k.lookup(kid) // another caller may have fetched meanwhile
	if key != nil && fresh {
		return key, nil
	}
	k.mu.Lock()
	tooSoon := !k.triedAt.IsZero() && k.now().Sub(k.triedAt) < k.minInterval
	haveKeys, lastErr := !k.fetchedAt.IsZero(), k.lastErr
	k.mu.Unlock()
	if tooSoon {
		switch {
		case key != nil: // stale but still published as far as we know
			return key, nil
		case !haveKeys && lastErr != nil:
			return nil, &errNoKeys{lastErr}
		}
		return nil, errUnknownKey
	}
	err := k.fetch(ctx)
	k.mu.Lock()
	k.triedAt, k.lastErr = k.now(), err
	haveKeys = !k.fetchedAt.IsZero()
	k.mu.Unlock()
	if key, _ := k.lookup(kid); key != nil {
		return key, nil // a failed refresh keeps the keys it had
	}
	if err != nil && (!haveKeys || ctx.Err() != nil) {
		return nil, &errNoKeys{err}
	}
	return nil, errUnknownKey
}

// lookup finds kid among the keys held, and says whether they are fresh.
func (k *keySet) lookup(kid string) (*jose.JSONWebKey, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	fresh := !k.fetchedAt.IsZero() && k.now().Sub(k.fetchedAt) < k.maxAge
	if kid == "" && len(k.keys) == 1 {
		return &k.keys[0], fresh
	}
	for i := range k.keys {
		if kid != "" && k.keys[i].KeyID == kid {
			return &k.keys[i], fresh
		}
	}
	return nil, fresh
}

// fetch reads the JWKS, discovering its URL first when needed. The caller
// holds k.fetching.
func (k *keySet) fetch(ctx context.Context) error {
	k.mu.Lock()
	jwksURL := k.jwksURL
	k.mu.Unlock()
	if jwksURL == "" {
		var err error
		if jwksURL, err = k.discover(ctx); err != nil {
			return err
		}
		k.mu.Lock()
		k.jwksURL = jwksURL
		k.mu.Unlock()
	}
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := k.getJSON(ctx, jwksURL, &doc); err != nil {
		return err
	}
	var keys []jose.JSONWebKey
	for _, raw := range doc.Keys {
		var key jose.JSONWebKey
		if json.Unmarshal(raw, &key) != nil {
			continue // a key type this library does not know: not one we verify with
		}
		// Only public signing keys: a symmetric ("oct") key in a public
		// document would let anyone sign, and "enc" keys are not for us.
		if !key.Valid() || !key.IsPublic() || (key.Use != "" && key.Use != "sig") {
			continue
		}
		if _, symmetric := key.Key.([]byte); symmetric {
			continue
		}
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		return fmt.Errorf("%s lists no public signing key", jwksURL)
	}
	k.mu.Lock()
	k.keys, k.fetchedAt = keys, k.now()
	k.mu.Unlock()
	return nil
}

// discover finds the issuer's jwks_uri: OpenID Connect discovery first,
// then RFC 8414 authorization server metadata. The document must name
// exactly this issuer (both specifications require the check).
func (k *keySet) discover(ctx context.Context) (string, error) {
	var errs []error
	for _, u := range metadataURLs(k.issuer) {
		var meta struct {
			Issuer  string `json:"issuer"`
			JWKSURI string `json:"jwks_uri"`
		}
		if err := k.getJSON(ctx, u, &meta); err != nil {
			errs = append(errs, err)
			continue
		}
		if meta.Issuer != k.issuer {
			errs = append(errs, fmt.Errorf("%s names the issuer %q, not %q", u, meta.Issuer, k.issuer))
			continue
		}
		ju, err := url.Parse(meta.JWKSURI)
		if err != nil || !ju.IsAbs() || ju.Host == "" || (ju.Scheme != "https" && !(ju.Scheme == "http" && strings.HasPrefix(k.issuer, "http:"))) {
			errs = append(errs, fmt.Errorf("%s has no usable jwks_uri (%q)", u, meta.JWKSURI))
			continue
		}
		return meta.JWKSURI, nil
	}
	return "", errors.Join(errs...)
}

// metadataURLs are where the issuer's metadata may be: OIDC appends the
// well-known path to the issuer; RFC 8414 puts it between host and path.
func metadataURLs(issuer string) []string {
	oidc := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	u, err := url.Parse(issuer)
	if err != nil {
		return []string{oidc}
	}
	rfc8414 := u.Scheme + "://" + u.Host + "/.well-known/oauth-authorization-server" + strings.TrimSuffix(u.Path, "/")
	return []string{oidc, rfc8414}
}

// maxDocument bounds a metadata or JWKS document.
const maxDocument = 1 << 20

func (k *keySet) getJSON(ctx context.Context, u string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := k.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxDocument+1))
	if err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	if len(data) > maxDocument {
		return fmt.Errorf("GET %s: larger than %d bytes", u, maxDocument)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	return nil
}
