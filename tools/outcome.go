package tools

import (
	"context"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/outlook-mcp/outlook-mcp/identity"
	"github.com/outlook-mcp/outlook-mcp/nango"
)

// Outcome is how a tool call ended, as failure classified it: a fixed set,
// so it can label metrics and be counted in the audit log.
type Outcome string

const (
	OutcomeOK              Outcome = "ok"
	OutcomeInputError      Outcome = "input_error"      // the arguments were refused; nothing reached Graph
	OutcomeRefused         Outcome = "refused"          // the tool cannot handle the data (a file too large or unreadable)
	OutcomeMissingScope    Outcome = "missing_scope"    // the connection lacks the permission (the gate, or a 403 explained by the granted scopes)
	OutcomeAccessDenied    Outcome = "access_denied"    // Graph's 403 with no missing scope to blame
	OutcomeNotFound        Outcome = "not_found"        // Graph's 404
	OutcomeBadRequest      Outcome = "bad_request"      // Graph's 400
	OutcomeThrottled       Outcome = "throttled"        // Outlook's or Nango's 429, after the retries that fit
	OutcomeUnavailable     Outcome = "unavailable"      // 5xx or network failures of a read, after retries
	OutcomeAmbiguous       Outcome = "ambiguous"        // a change that may or may not have taken effect
	OutcomeTimeout         Outcome = "timeout"          // the call's deadline passed (a read)
	OutcomeCancelled       Outcome = "cancelled"        // the client cancelled it (a read)
	OutcomeConnectionError Outcome = "connection_error" // no such connection, or its sign-in expired: the user must act
	OutcomeConfigError     Outcome = "config_error"     // Nango refused the secret key or the integration: the operator must act
	OutcomeUpstreamError   Outcome = "upstream_error"   // any other failure from Nango or Graph
	OutcomeInternalError   Outcome = "internal_error"   // a fault of this server (a JSON-RPC error, a panic)
	OutcomeRejected        Outcome = "rejected"         // the transport did not run it: too many calls from the client, or shutting down
)

// Outcomes is every Outcome, for metrics and documentation.
var Outcomes = []Outcome{OutcomeOK, OutcomeInputError, OutcomeRefused, OutcomeMissingScope, OutcomeAccessDenied,
	OutcomeNotFound, OutcomeBadRequest, OutcomeThrottled, OutcomeUnavailable, OutcomeAmbiguous, OutcomeTimeout,
	OutcomeCancelled, OutcomeConnectionError, OutcomeConfigError, OutcomeUpstreamError, OutcomeInternalError, OutcomeRejected}

// CallRecord is what the audit log and the metrics learn of one tool call.
// It holds no argument and no result: nothing the user wrote or read.
type CallRecord struct {
	Time       time.Time // when the call arrived
	Caller     string    // the identity's caller (token label, OAuth subject); "" on stdio or with one static token
	Connection string    // the Nango connection it acted on; "" when none was resolved
	Tool       string
	Outcome    Outcome
	Duration   time.Duration
	Trace      *nango.Trace // the Nango requests it made: statuses, Graph request ids, retries
}

type recordKey struct{}

// observe wraps every tool call, those the transport then refuses too, and
// hands Deps.Observe its record once it has answered (or panicked, which
// server.WithRecovery then answers).
func (deps Deps) observe(next server.ToolHandlerFunc) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		rec := &CallRecord{Time: time.Now(), Tool: req.Params.Name, Outcome: OutcomeRejected, Trace: new(nango.Trace)}
		if id, ok := identity.From(ctx); ok {
			rec.Caller, rec.Connection = id.Caller, id.Connection
		}
		defer func() {
			rec.Duration = time.Since(rec.Time)
			deps.Observe(ctx, *rec)
		}()
		return next(context.WithValue(nango.WithTrace(ctx, rec.Trace), recordKey{}, rec), req)
	}
}

// recordOf is the call's record; a throwaway one when nothing observes.
func recordOf(ctx context.Context) *CallRecord {
	if rec, ok := ctx.Value(recordKey{}).(*CallRecord); ok {
		return rec
	}
	return &CallRecord{}
}

// end notes how the call ended and returns its answer.
func (r *CallRecord) end(res *mcp.CallToolResult, o Outcome, err error) (*mcp.CallToolResult, error) {
	r.Outcome = o
	return res, err
}
