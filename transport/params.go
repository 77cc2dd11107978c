package transport

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/outlook-mcp/outlook-mcp/prompts"
)

// Invalid prompt arguments are answered -32602 (invalid params) here, by
// the transports, before mcp-go dispatches the request: mcp-go v1.2.1 turns
// every error of a prompt handler into -32603 (handlerError in
// server/handler_errors.go), its OnRequestInitialization hook can only
// refuse with -32600, and its BeforeGetPrompt hook cannot refuse at all.
// Every transport takes the concrete *server.MCPServer and calls its
// HandleMessage, so there is no wrapper to slip in between either. What
// every transport of this package does have is the raw message before
// mcp-go reads it: stdio's line reader, the body of a POST to /mcp or to
// /message. Each asks refusal, the one check, and only the answer's way
// back differs: a line on stdout, the POST's response, the SSE stream.

// checkParams checks a request's params by its method; an error is what
// the client is told, as -32602.
var checkParams = prompts.CheckParams

// refusal is the JSON-RPC error answering message, or nil when the
// message goes on to mcp-go: a notification, a response, a batch,
// anything that does not parse, and every request whose params pass.
func refusal(message []byte) []byte {
	return messageRefusal(message, nil)
}

// messageRefusal is refusal for a POST to /message with its header: when
// it carries Mcp-Method, Mcp-Name or Mcp-Param-*, they must also agree with
// the body, -32020 (header mismatch) else, as streamable HTTP requires in
// the 2026-07-28 era. mcp-go checks them only on a request of that era
// that also carries MCP-Protocol-Version, but a header that says one thing
// while the body does another is a lie to whatever reads headers (a
// gateway, a log), whichever era the body claims. No client of the
// HTTP+SSE transport sends them (see withoutStrayVersion), so only such a
// request pays for parsing its body here.
func messageRefusal(message []byte, header http.Header) []byte {
	headers := header != nil && hasStandardHeader(header)
	if !headers && !bytes.Contains(message, []byte(mcp.MethodPromptsGet)) {
		return nil // cheap: most messages, tool calls with large bodies among them
	}
	var m struct {
		ID     json.RawMessage `json:"id"`
		Method string          `json:"method"`
		Params json.RawMessage `json:"params"`
	}
	if json.Unmarshal(message, &m) != nil || len(m.ID) == 0 || string(m.ID) == "null" {
		return nil
	}
	if headers {
		if err := mcp.ValidateStandardHeaders(header.Get, mcp.ProtocolVersion20260728, mcp.MCPMethod(m.Method), m.Params); err != nil {
			return rpcError(m.ID, mcp.HEADER_MISMATCH, err.Error())
		}
	}
	err := checkParams(m.Method, m.Params)
	if err == nil {
		return nil
	}
	return rpcError(m.ID, mcp.INVALID_PARAMS, err.Error())
}

// rpcError is a JSON-RPC error response to the request with id.
func rpcError(id json.RawMessage, code int, message string) []byte {
	reply, _ := json.Marshal(struct {
		JSONRPC string                  `json:"jsonrpc"`
		ID      json.RawMessage         `json:"id"`
		Error   mcp.JSONRPCErrorDetails `json:"error"`
	}{mcp.JSONRPC_VERSION, id, mcp.JSONRPCErrorDetails{Code: code, Message: message}})
	return reply
}

// postBody reads a POST's body (the guard has bounded it) and puts it
// back for the next handler.
func postBody(r *http.Request) ([]byte, bool) {
	if r.Method != http.MethodPost || r.Body == nil {
		return nil, false
	}
	body, err := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body, err == nil
}

// checkStreamable answers a refused request to /mcp as its POST's
// response, as streamable HTTP answers any request with one JSON response.
func checkStreamable(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if body, ok := postBody(r); ok {
			if reply := refusal(body); reply != nil {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write(reply)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// checkMessage answers a refused request to /message on its session's SSE
// stream, after 202 Accepted, as mcp-go answers every request there. An
// unknown session goes on to mcp-go, which says so.
func checkMessage(sse *server.SSEServer, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if body, ok := postBody(r); ok {
			if reply := messageRefusal(body, r.Header); reply != nil {
				if sse.SendEventToSession(r.URL.Query().Get("sessionId"), json.RawMessage(reply)) == nil {
					w.WriteHeader(http.StatusAccepted)
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}
