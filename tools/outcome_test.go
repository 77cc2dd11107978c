package tools

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outlook-mcp/outlook-mcp/identity"
	"github.com/outlook-mcp/outlook-mcp/sim"
)

// records collects what Deps.Observe is handed.
type records struct {
	mu   sync.Mutex
	list []CallRecord
}

func (r *records) observe(_ context.Context, rec CallRecord) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.list = append(r.list, rec)
}

// last is the only record since the previous call of last.
func (r *records) last(t *testing.T) CallRecord {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	require.Len(t, r.list, 1, "one record per call")
	rec := r.list[0]
	r.list = nil
	return rec
}

func observed(opts ...harnessOption) (*records, []harnessOption) {
	recs := &records{}
	return recs, append(opts, withDeps(func(d *Deps) { d.Observe = recs.observe }))
}

func TestEveryCallIsRecordedWithItsOutcome(t *testing.T) {
	send := map[string]any{"to": []string{"ann.fischer@contoso.com"}, "subject": "Q4", "body": "b"}
	for _, tc := range []struct {
		name  string
		opts  []harnessOption
		fault *sim.Fault
		tool  string
		args  map[string]any
		want  Outcome
		graph bool // a Graph request was answered: its request id is recorded
	}{
		{name: "ok", tool: "search_mail", args: map[string]any{"limit": 1}, want: OutcomeOK, graph: true},
		{name: "input error", tool: "search_mail", args: map[string]any{"limit": "many"}, want: OutcomeInputError},
		{name: "unknown argument", tool: "get_message", args: map[string]any{"id": "x", "body": "y"}, want: OutcomeInputError},
		{name: "missing scope at the gate", opts: []harnessOption{withScopes("User.Read")}, tool: "search_mail", want: OutcomeMissingScope},
		{name: "missing scope for the mode", opts: []harnessOption{withScopes("User.Read", "Mail.ReadWrite")}, tool: "send_mail", args: send, want: OutcomeMissingScope},
		{name: "throttled", fault: &sim.Fault{Method: "GET", Path: "/v1.0/me/messages", Status: 429, RetryAfter: "0", Times: 10},
			tool: "search_mail", want: OutcomeThrottled, graph: true},
		{name: "ambiguous", fault: &sim.Fault{Method: "POST", Path: "/v1.0/me/sendMail", Status: 503, AfterEffect: true},
			tool: "send_mail", args: send, want: OutcomeAmbiguous, graph: true},
		{name: "not found", tool: "get_message", args: map[string]any{"id": "AAMkAGI2TG93AAA="}, want: OutcomeNotFound, graph: true},
		{name: "bad request", fault: &sim.Fault{Method: "GET", Path: "/v1.0/me/messages", Status: 400, Code: "ErrorInvalidUrlQuery"},
			tool: "search_mail", want: OutcomeBadRequest, graph: true},
		{name: "unavailable", fault: &sim.Fault{Method: "GET", Path: "/v1.0/me/messages", Status: 503, Times: 10},
			tool: "search_mail", want: OutcomeUnavailable, graph: true},
		{name: "bad secret key", opts: []harnessOption{withSim(func(o *sim.Options) { o.SecretKey = "0b9c5a3e-1f2d-4e6a-8b7c-9d0e1f2a3b4c" })},
			tool: "search_mail", want: OutcomeConfigError},
		{name: "expired sign-in", opts: []harnessOption{withSim(func(o *sim.Options) { o.RefreshFailed = true })},
			tool: "search_mail", want: OutcomeConnectionError},
		{name: "refresh refused", fault: &sim.Fault{RefreshFailed: true, Times: 10}, tool: "search_mail", want: OutcomeConnectionError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs, opts := observed(tc.opts...)
			h := newHarness(t, opts...)
			if tc.fault != nil {
				h.sim.Inject(*tc.fault)
			}
			res := h.call(tc.tool, tc.args)
			assert.Equal(t, tc.want != OutcomeOK, res.IsError, textOf(res))
			rec := recs.last(t)
			assert.Equal(t, tc.want, rec.Outcome, textOf(res))
			assert.Equal(t, tc.tool, rec.Tool)
			assert.Equal(t, "sandbox", rec.Connection)
			assert.Empty(t, rec.Caller, "no identity: stdio or one static token")
			assert.Positive(t, rec.Duration)
			assert.False(t, rec.Time.IsZero())
			require.NotNil(t, rec.Trace)
			ids := rec.Trace.RequestIDs()
			if !tc.graph {
				assert.Empty(t, ids)
				return
			}
			require.NotEmpty(t, ids, "Graph's request ids")
			for _, id := range ids {
				assert.Regexp(t, `^[0-9a-f-]{36}$`, id)
			}
			if _, shown, ok := strings.Cut(textOf(res), "Graph request-id "); ok {
				assert.Contains(t, ids, strings.TrimSuffix(shown, ")"), "the id the user is shown is one of the call's")
			}
		})
	}
}

func TestARecordNamesTheCallerAndRetries(t *testing.T) {
	recs, opts := observed()
	h := newHarness(t, opts...)
	h.sim.Inject(sim.Fault{Method: "GET", Path: "/v1.0/me/messages", Status: 429, RetryAfter: "0", Times: 2})
	ctx := identity.With(context.Background(), identity.Identity{Caller: "backend-a", Connection: "sandbox"})
	res, err := h.client.CallTool(ctx, mcp.CallToolRequest{Params: mcp.CallToolParams{Name: "search_mail", Arguments: map[string]any{"limit": 1}}})
	require.NoError(t, err)
	require.False(t, res.IsError, textOf(res))
	rec := recs.last(t)
	assert.Equal(t, "backend-a", rec.Caller)
	assert.Equal(t, OutcomeOK, rec.Outcome)
	assert.Len(t, rec.Trace.Retries(), 2)
	for _, r := range rec.Trace.Retries() {
		assert.True(t, r.Throttled)
	}
	assert.Equal(t, 2, rec.Trace.Statuses()[429])
	assert.Positive(t, rec.Trace.Statuses()[200])
}

func TestAPanicIsRecordedAsAnInternalError(t *testing.T) {
	boom := define("boom", "Boom", "Panics.", []string{"User.Read"}, Hints{ReadOnly: true, Idempotent: true},
		func(context.Context, *Call, struct{}) (*ProfileResult, error) { panic("boom") })
	recs, opts := observed(withTools([]Tool{boom}))
	h := newHarness(t, opts...)
	_, err := h.client.CallTool(context.Background(), mcp.CallToolRequest{Params: mcp.CallToolParams{Name: "boom"}})
	require.Error(t, err, "a JSON-RPC internal error")
	assert.Equal(t, OutcomeInternalError, recs.last(t).Outcome)
}

func TestACallTheTransportRefusesIsRecordedAsRejected(t *testing.T) {
	recs, opts := observed()
	h := newHarness(t, opts...)
	// What transport's per-client limit does to a call beyond it.
	server.WithToolHandlerMiddleware(func(server.ToolHandlerFunc) server.ToolHandlerFunc {
		return func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return mcp.NewToolResultError("too many calls at once from this client"), nil
		}
	})(h.server)
	h.fails("search_mail", nil)
	rec := recs.last(t)
	assert.Equal(t, OutcomeRejected, rec.Outcome)
	assert.Equal(t, "search_mail", rec.Tool)
	assert.Empty(t, h.graph("/"), "nothing reached Graph")
}
