package transport

import (
	"net/http"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
)

// A client of the 2026-07-28 era that talks the legacy HTTP+SSE transport
// (the TypeScript SDK v2 with versionNegotiation 'auto', the Inspector with
// --protocol-era modern) negotiates with server/discover, then sends
// MCP-Protocol-Version: 2026-07-28 on each POST to /message, but neither
// Mcp-Method nor Mcp-Name: those standard headers (SEP-2243) belong to
// streamable HTTP, and HTTP+SSE never had them. mcp-go v1.2.1 applies
// streamable HTTP's rule to any request carrying the version header
// (validateStandardHeadersForMessage in server/response.go), so every call
// after the probe was answered -32020 "Mcp-Method: missing required header".
//
// The version header tells mcp-go nothing on /message: a modern request's
// era is read from its body (_meta), and only this check looks at the
// header. So when a POST to /message carries none of the standard headers,
// withoutStrayVersion drops the version header: there is nothing to compare
// with the body, nothing an intermediary could have routed on. Filling the
// headers in from the body instead would compare the body with itself and
// leave headers no client sent. A POST that carries any standard header
// keeps them all, and each is checked against the body (messageRefusal in
// params.go, then mcp-go as before), so a header that disagrees with the
// body (Mcp-Method: tools/list on a tools/call) is still refused -32020.
// Only headers are read here, never the body. /mcp is not wrapped:
// streamable HTTP keeps its rules.
func withoutStrayVersion(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(mcp.HeaderProtocolVersion) != "" && !hasStandardHeader(r.Header) {
			r = r.WithContext(r.Context()) // a copy: the caller's request stays as it came
			r.Header = r.Header.Clone()
			r.Header.Del(mcp.HeaderProtocolVersion)
		}
		next.ServeHTTP(w, r)
	})
}

// hasStandardHeader reports whether h holds Mcp-Method, Mcp-Name or any
// Mcp-Param-* header, even with an empty value.
func hasStandardHeader(h http.Header) bool {
	for name := range h {
		if strings.EqualFold(name, mcp.HeaderMethod) || strings.EqualFold(name, mcp.HeaderName) ||
			len(name) >= len(mcp.HeaderParamPrefix) && strings.EqualFold(name[:len(mcp.HeaderParamPrefix)], mcp.HeaderParamPrefix) {
			return true
		}
	}
	return false
}
