package ops

import (
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/outlook-mcp/outlook-mcp/tools"
)

// auditLine is one tool call in the audit log. Its keys are documented in
// the README (Operating: audit log, metrics, health); it has no room for an
// argument or a result.
type auditLine struct {
	Time       string   `json:"time"`       // when the call arrived, RFC 3339 UTC
	Caller     string   `json:"caller"`     // token label or OAuth subject; "" on stdio or with one static token
	Connection string   `json:"connection"` // the Nango connection id
	Tool       string   `json:"tool"`
	Outcome    string   `json:"outcome"` // one of tools.Outcomes
	DurationMS float64  `json:"duration_ms"`
	RequestIDs []string `json:"request_ids,omitempty"` // Graph's request ids, in order
}

type audit struct {
	logger *slog.Logger
	mu     sync.Mutex // one line at a time
	w      io.Writer
	failed bool // a write failed: said once in the log
}

func newAudit(w io.Writer, logger *slog.Logger) *audit {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &audit{w: w, logger: logger}
}

func (a *audit) write(rec tools.CallRecord) {
	line := auditLine{
		Time:       rec.Time.UTC().Format(time.RFC3339Nano),
		Caller:     rec.Caller,
		Connection: rec.Connection,
		Tool:       rec.Tool,
		Outcome:    string(rec.Outcome),
		DurationMS: math.Round(rec.Duration.Seconds()*1e6) / 1e3,
	}
	if rec.Trace != nil {
		line.RequestIDs = rec.Trace.RequestIDs()
	}
	data, err := json.Marshal(line)
	if err != nil {
		return // strings and numbers only: cannot fail
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	// One write per line, so that lines from many calls never interleave.
	if _, err := a.w.Write(append(data, '\n')); err != nil && !a.failed {
		a.failed = true
		a.logger.Error("cannot write the audit log", "err", err)
	}
}
