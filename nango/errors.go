package nango

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Source tells who produced an error: Nango itself, Microsoft Graph behind
// the proxy, or the network between us and Nango.
type Source string

const (
	FromNango   Source = "nango"
	FromGraph   Source = "graph"
	FromNetwork Source = "network"
)

// Kind is what a caller can do about an error. Tools branch on it, never on
// message text.
type Kind int

const (
	KindOther              Kind = iota
	KindBadSecretKey            // Nango rejected the secret key (missing, malformed, unknown, lacks permission)
	KindUnknownIntegration      // no such Nango integration (provider config key)
	KindUnknownConnection       // no such Nango connection
	KindReauthorize             // the token refresh failed: the user must re-authorize
	KindRateLimited             // Nango's or Graph's 429 (throttled before execution)
	KindAccessDenied            // Graph 403: a scope is missing (Graph never says which)
	KindNotFound                // Graph 404 / ErrorItemNotFound
	KindBadRequest              // Graph 400: the request was invalid
	KindUnavailable             // 5xx or network failure
	KindAmbiguous               // a non-idempotent call failed after it may have taken effect
)

// Error is a failed proxy call, classified.
type Error struct {
	Source     Source
	Kind       Kind
	Status     int    // HTTP status; 0 for network errors
	Code       string // Nango's snake_case or Graph's PascalCase code
	Message    string
	RetryAfter time.Duration // from Retry-After, when given
	RequestID  string        // Graph's request-id, for support tickets
	Err        error         // underlying network error, if any
	unsent     bool          // the request never left this machine: safe to repeat
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(string(e.Source))
	if e.Status != 0 {
		fmt.Fprintf(&b, " %d", e.Status)
	}
	if e.Code != "" {
		fmt.Fprintf(&b, " %s", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// AsError returns err as an *Error when it is one.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// errorBody is the shape both Nango and Graph use: {"error":{"code","message"}}.
// Nango's upstream failures sometimes put code and message at the top level.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// parseError classifies a non-2xx response. Graph's codes are PascalCase and
// Nango's are snake_case: that is how the two are told apart.
func parseError(resp *http.Response, body []byte) *Error {
	e := &Error{
		Status:     resp.StatusCode,
		RetryAfter: retryAfter(resp.Header.Get("Retry-After")),
		RequestID:  resp.Header.Get("request-id"),
	}
	var eb errorBody
	if json.Unmarshal(body, &eb) == nil {
		e.Code, e.Message = eb.Error.Code, eb.Error.Message
		if e.Code == "" {
			e.Code, e.Message = eb.Code, eb.Message
		}
	}
	if e.Message == "" && e.Code == "" {
		e.Message = strings.TrimSpace(string(truncate(body, 300)))
	}
	e.Source = FromGraph
	if isNangoCode(e.Code) {
		e.Source = FromNango
	}
	e.Kind = classify(e)
	return e
}

// isNangoCode: Nango's codes are snake_case (unknown_account) or errno
// names (ECONNRESET); Graph's are PascalCase (ErrorAccessDenied,
// Authorization_RequestDenied) or camelCase (itemNotFound).
func isNangoCode(code string) bool {
	return nangoCode.MatchString(code)
}

var nangoCode = regexp.MustCompile(`^([a-z0-9]+(_[a-z0-9]+)+|[a-z0-9]+|E[A-Z_]+)$`)

func classify(e *Error) Kind {
	if e.Source == FromNango {
		switch e.Code {
		case "missing_auth_header", "invalid_secret_key_format", "unknown_account", "invalid_secret_key", "forbidden":
			return KindBadSecretKey
		case "unknown_provider_config":
			return KindUnknownIntegration
		case "not_found", "unknown_connection":
			return KindUnknownConnection
		case "too_many_request", "too_many_requests":
			return KindRateLimited
		case "connection_refresh_backoff", "invalid_credentials":
			// invalid_credentials: Microsoft refused the token refresh.
			return KindReauthorize
		case "server_error":
			msg := strings.ToLower(e.Message)
			switch {
			case strings.Contains(msg, "credentials") || strings.Contains(msg, "refresh"):
				return KindReauthorize
			case strings.Contains(msg, "failed to get connection"):
				return KindUnknownConnection
			}
		}
		switch {
		case e.Status == http.StatusTooManyRequests:
			return KindRateLimited
		case e.Status >= 500 || strings.HasPrefix(e.Code, "E"):
			return KindUnavailable
		}
		return KindOther
	}
	switch {
	case e.Status == http.StatusTooManyRequests:
		return KindRateLimited
	case e.Status == http.StatusForbidden:
		return KindAccessDenied
	case e.Status == http.StatusNotFound || e.Code == "ErrorItemNotFound":
		return KindNotFound
	case e.Status == http.StatusUnauthorized:
		return KindReauthorize
	case e.Status >= 500:
		return KindUnavailable
	case e.Status >= 400:
		return KindBadRequest
	}
	return KindOther
}

// retryAfter reads Retry-After as seconds or an HTTP date.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
