package handles

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // pure Go: no cgo, cross-builds stay simple
)

// SQLite is the default store: one file under the user's state directory,
// shared by every process of that user (two MCP hosts open at once). WAL
// lets readers run beside a writer; writes are short transactions that
// take the write lock at their start (_txlock=immediate) and wait for it
// (busy_timeout), so processes queue rather than fail; a crash loses at
// most the last transaction, never the file's consistency.
type SQLite struct {
	path string
	now  func() time.Time

	mu sync.Mutex
	db *sql.DB // opened on first use: start-up does no I/O

	pruned atomic.Int64 // unix seconds of this process's last prune
}

// FileName is the store's file in its directory.
const FileName = "handles.db"

// NewSQLite returns the store of dir, created on first use.
func NewSQLite(dir string) *SQLite {
	return &SQLite{path: filepath.Join(dir, FileName), now: time.Now}
}

const schema = `CREATE TABLE IF NOT EXISTS handles (
	scope  TEXT NOT NULL,
	handle TEXT NOT NULL,
	id     TEXT NOT NULL,
	used   INTEGER NOT NULL,
	PRIMARY KEY (scope, handle)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS handles_used ON handles (used);`

func (s *SQLite) open() (*sql.DB, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db != nil {
		return s.db, nil
	}
	dir := filepath.Dir(s.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	// Whoever may write the file may point a handle at another message:
	// a directory others can write to (a shared temp dir) is not used.
	if info, err := os.Lstat(dir); err != nil || !info.IsDir() || info.Mode().Perm()&0o022 != 0 {
		return nil, fmt.Errorf("handle store %s: not a directory that only its owner can write to", dir)
	}
	q := url.Values{"_txlock": {"immediate"}}
	q["_pragma"] = []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(NORMAL)"}
	dsn := (&url.URL{Scheme: "file", Path: filepath.ToSlash(s.path), RawQuery: q.Encode()}).String()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	if _, err := db.Exec(schema); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("handle store %s: %w", s.path, err)
	}
	s.db = db
	return db, nil
}

// Mint implements Store. It reads first, and writes only handles that are
// new or whose last use is older than refreshAfter.
func (s *SQLite) Mint(ctx context.Context, sc Scope, items []Item) ([]string, error) {
	p := newPlan(sc, items)
	if len(p.order) == 0 {
		return p.handles, nil
	}
	db, err := s.open()
	if err != nil {
		return nil, err
	}
	now := s.now().Unix()
	stored, err := s.lookup(ctx, db, p)
	if err != nil {
		return nil, err
	}
	held := map[string]string{}
	var write []string
	for _, h := range p.order {
		e, ok := stored[h]
		switch {
		case ok && e.id == p.ids[h] && now-e.used < int64(refreshAfter.Seconds()):
			held[h] = e.id
		case ok && e.id != p.ids[h] && now-e.used < int64(TTL.Seconds()):
			held[h] = e.id
		default:
			write = append(write, h)
		}
	}
	if len(write) > 0 {
		if err := s.write(ctx, db, p, write, now, held); err != nil {
			return nil, err
		}
	}
	return p.result(held), nil
}

type row struct {
	id   string
	used int64
}

func (s *SQLite) lookup(ctx context.Context, db *sql.DB, p *plan) (map[string]row, error) {
	args := make([]any, 0, len(p.order)+1)
	args = append(args, p.scope)
	for _, h := range p.order {
		args = append(args, h)
	}
	rows, err := db.QueryContext(ctx, `SELECT handle, id, used FROM handles WHERE scope = ? AND handle IN (?`+strings.Repeat(",?", len(p.order)-1)+`)`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]row{}
	for rows.Next() {
		var h string
		var r row
		if err := rows.Scan(&h, &r.id, &r.used); err != nil {
			return nil, err
		}
		out[h] = r
	}
	return out, rows.Err()
}

// write stores handles in one transaction and notes in held those it
// stored. A handle another process gave another id in the meantime stays
// that id's; an expired one is taken over.
func (s *SQLite) write(ctx context.Context, db *sql.DB, p *plan, handles []string, now int64, held map[string]string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit: a no-op
	expired := now - int64(TTL.Seconds())
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO handles (scope, handle, id, used) VALUES (?, ?, ?, ?)
ON CONFLICT (scope, handle) DO UPDATE SET id = excluded.id, used = excluded.used
WHERE handles.id = excluded.id OR handles.used <= ? RETURNING id`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, h := range handles {
		var id string
		switch err := stmt.QueryRowContext(ctx, p.scope, h, p.ids[h], now, expired).Scan(&id); {
		case err == nil:
			held[h] = id
		case err != sql.ErrNoRows: // no row: the row stayed, it holds another, live id
			return err
		}
	}
	if last := s.pruned.Load(); now-last >= int64(time.Hour.Seconds()) && s.pruned.CompareAndSwap(last, now) {
		if _, err := tx.ExecContext(ctx, `DELETE FROM handles WHERE used <= ?`, expired); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Resolve implements Store.
func (s *SQLite) Resolve(ctx context.Context, sc Scope, handle string) (string, bool, error) {
	db, err := s.open()
	if err != nil {
		return "", false, err
	}
	now := s.now().Unix()
	var r row
	err = db.QueryRowContext(ctx, `SELECT id, used FROM handles WHERE scope = ? AND handle = ?`, sc.key(), handle).Scan(&r.id, &r.used)
	switch {
	case err == sql.ErrNoRows:
		return "", false, nil
	case err != nil:
		return "", false, err
	case now-r.used >= int64(TTL.Seconds()):
		return "", false, nil
	case now-r.used >= int64(refreshAfter.Seconds()):
		// Only the expiry depends on it: a failed refresh does not fail the call.
		_, _ = db.ExecContext(ctx, `UPDATE handles SET used = ? WHERE scope = ? AND handle = ? AND id = ?`, now, sc.key(), handle, r.id)
	}
	return r.id, true, nil
}

// Close implements Store.
func (s *SQLite) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		return nil
	}
	err := s.db.Close()
	s.db = nil
	return err
}
