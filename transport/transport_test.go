package transport

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/mark3labs/mcp-go/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckAddrAllowsLoopbackOrAToken(t *testing.T) {
	for _, tc := range []struct {
		addr, token string
		ok          bool
	}{
		{"127.0.0.1:8080", "", true},
		{"localhost:8080", "", true},
		{"[::1]:8080", "", true},
		{"127.0.0.2:0", "", true},
		{"0.0.0.0:8080", "", false},
		{":8080", "", false},
		{"[::]:8080", "", false},
		{"192.168.1.5:8080", "", false},
		{"0.0.0.0:8080", "s3cret", false}, // guessable
		{"0.0.0.0:8080", testToken[1:], false},
		{"0.0.0.0:8080", testToken, true},
		{"127.0.0.1:8080", "x", true}, // only this machine can guess
		{"no-port", "", false},
	} {
		err := CheckAddr(tc.addr, tc.token)
		if tc.ok {
			assert.NoError(t, err, tc.addr)
		} else if assert.Error(t, err, tc.addr) {
			assert.Contains(t, err.Error(), tc.addr)
		}
	}
	assert.Contains(t, CheckAddr("0.0.0.0:8080", "").Error(), "OUTLOOK_MCP_TOKEN")
	short := CheckAddr("0.0.0.0:8080", "x").Error()
	assert.Contains(t, short, "OUTLOOK_MCP_TOKEN")
	assert.Contains(t, short, "openssl rand -hex 32", "says how to make one")
	assert.NotContains(t, short, `"x"`, "never shows the token")
}

func TestHandlerRequiresTheTokenOnMCPEndpointsOnly(t *testing.T) {
	h, err := Handler(server.NewMCPServer("t", "1"), HTTPConfig{Token: "s3cret"})
	require.NoError(t, err)
	for _, tc := range []struct {
		path, auth string
		want       int
	}{
		{"/healthz", "", http.StatusOK},
		{"/mcp", "", http.StatusUnauthorized},
		{"/mcp", "Bearer wrong", http.StatusUnauthorized},
		{"/mcp", "s3cret", http.StatusUnauthorized},
		{"/sse", "", http.StatusUnauthorized},
		{"/message", "Bearer s3cre", http.StatusUnauthorized},
	} {
		req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1"+tc.path, nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		require.Equal(t, tc.want, rec.Code, "%s %q", tc.path, tc.auth)
		if tc.want == http.StatusUnauthorized {
			assert.Equal(t, `Bearer realm="outlook-mcp"`, rec.Header().Get("WWW-Authenticate"))
		}
	}
	// With the token, the request reaches the MCP server (which answers the empty body).
	req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/mcp", nil)
	req.Header.Set("Authorization", "Bearer s3cret")
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.NotEqual(t, http.StatusUnauthorized, rec.Code)
}
