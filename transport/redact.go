package transport

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
)

// An SSE session id is a capability: whoever knows it can post to that
// session's /message. So ids have a form of their own, and the logs show a
// short digest of each instead (enough to follow one session's lines).

var sessionIDPattern = regexp.MustCompile(`sse-[0-9a-f]{32}`)

func newSessionID(context.Context, *http.Request) (string, error) {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails
	return "sse-" + hex.EncodeToString(b), nil
}

// redact replaces every session id in s by its digest.
func redact(s string) string {
	return sessionIDPattern.ReplaceAllStringFunc(s, func(id string) string {
		sum := sha256.Sum256([]byte(id))
		return "sse#" + hex.EncodeToString(sum[:4])
	})
}

// RedactSessionIDs wraps a log handler so that no SSE session id reaches
// it: not in messages, not in attributes (mcp-go logs mcp.session.id on
// every request).
func RedactSessionIDs(h slog.Handler) slog.Handler { return redactHandler{h} }

// LogWriter turns lines written to it (by the standard log package, which
// mcp-go uses for some errors) into error records of l.
func LogWriter(l *slog.Logger) io.Writer { return &slogWriter{l} }

type redactHandler struct{ h slog.Handler }

func (r redactHandler) Enabled(ctx context.Context, l slog.Level) bool { return r.h.Enabled(ctx, l) }

func (r redactHandler) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, redact(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(redactAttr(a))
		return true
	})
	return r.h.Handle(ctx, out)
}

func (r redactHandler) WithAttrs(as []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(as))
	for i, a := range as {
		clean[i] = redactAttr(a)
	}
	return redactHandler{r.h.WithAttrs(clean)}
}

func (r redactHandler) WithGroup(name string) slog.Handler { return redactHandler{r.h.WithGroup(name)} }

func redactAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		a.Value = slog.StringValue(redact(v.String()))
	case slog.KindGroup:
		group := v.Group()
		clean := make([]slog.Attr, len(group))
		for i, g := range group {
			clean[i] = redactAttr(g)
		}
		a.Value = slog.GroupValue(clean...)
	case slog.KindAny:
		// Errors and other values print through fmt: redact what they print.
		if s := fmt.Sprint(v.Any()); sessionIDPattern.MatchString(s) {
			a.Value = slog.StringValue(redact(s))
		} else {
			a.Value = v
		}
	default:
		a.Value = v
	}
	return a
}
