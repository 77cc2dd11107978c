package handles

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outlook-mcp/outlook-mcp/nango/redistest"
)

var (
	alice = Scope{Integration: "outlook", Connection: "alice"}
	bob   = Scope{Integration: "outlook", Connection: "bob"}
	ctx   = context.Background()
)

// graphID looks like an immutable message id; n makes it unique.
func graphID(n int) string {
	return fmt.Sprintf("AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0AzBJmsD%08dAAA=", n)
}

// stores are the three implementations, each fresh; sqlite's directory is
// returned so a test can open it again.
func stores(t *testing.T) map[string]func() Store {
	return map[string]func() Store{
		"memory": func() Store { return NewMemory() },
		"sqlite": func() Store {
			s := NewSQLite(t.TempDir())
			t.Cleanup(func() { _ = s.Close() })
			return s
		},
		"redis": func() Store {
			srv := redistest.Start(t)
			return NewRedis(srv.Client())
		},
	}
}

func TestSyntax(t *testing.T) {
	h := handle(alice.key(), Item{Kind: 'm', ID: graphID(1)})
	assert.Len(t, h, Len)
	assert.True(t, Valid(h), h)
	assert.Equal(t, h, handle(alice.key(), Item{Kind: 'm', ID: graphID(1)}), "deterministic")
	assert.NotEqual(t, h, handle(bob.key(), Item{Kind: 'm', ID: graphID(1)}), "keyed by the connection")
	assert.NotEqual(t, h[1:], handle(alice.key(), Item{Kind: 'e', ID: graphID(1)})[1:], "keyed by the kind")

	// Graph's well-known folder names are never handles, whatever their case.
	for _, name := range []string{"archive", "clutter", "conflicts", "conversationhistory", "deleteditems", "drafts", "inbox",
		"junkemail", "localfailures", "msgfolderroot", "outbox", "recoverableitemsdeletions", "scheduled", "searchfolders",
		"sentitems", "serverfailures", "syncissues", "SyncIssues", "recipientcache", "allitems"} {
		assert.False(t, Valid(name), name)
	}
	for _, s := range []string{"", "m", "m7fk2q9xa", "m7fk2q9xa33", "M7fk2q9xa3", "x7fk2q9xa3", "m7fk2q9xi3", "m7fk2q9xo3",
		"m../../etc", "m%2e%2e/abc", "m7fk2q9x/3", "m7fk2q9x 3", "m7fk2q9xA3", graphID(1)} {
		assert.False(t, Valid(s), s)
	}
}

func TestStores(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			s := open()
			items := []Item{{'m', graphID(1)}, {'m', graphID(2)}, {'a', "AAMkAGI2-attachment"}, {'m', graphID(1)}}
			hs, err := s.Mint(ctx, alice, items)
			require.NoError(t, err)
			require.Len(t, hs, 4)
			assert.Equal(t, hs[0], hs[3], "one id, one handle")
			assert.NotEqual(t, hs[0], hs[1])
			assert.Equal(t, byte('a'), hs[2][0])
			for i, h := range hs {
				id, ok, err := s.Resolve(ctx, alice, h)
				require.NoError(t, err)
				assert.True(t, ok)
				assert.Equal(t, items[i].ID, id)
			}

			again, err := s.Mint(ctx, alice, items)
			require.NoError(t, err)
			assert.Equal(t, hs, again, "minting again gives the same handles")

			// Another connection does not know alice's handles, nor does
			// a connection of the same id in another integration.
			_, ok, err := s.Resolve(ctx, bob, hs[0])
			require.NoError(t, err)
			assert.False(t, ok)
			_, ok, err = s.Resolve(ctx, Scope{Integration: "outlook-eu", Connection: "alice"}, hs[0])
			require.NoError(t, err)
			assert.False(t, ok)

			// Forged: the right shape, never minted.
			_, ok, err = s.Resolve(ctx, alice, "m0000000000"[:Len])
			require.NoError(t, err)
			assert.False(t, ok)

			empty, err := s.Mint(ctx, alice, nil)
			require.NoError(t, err)
			assert.Empty(t, empty)
		})
	}
}

// collide makes every id of kind m hash alike for the test.
func collide(t *testing.T) {
	real := digest
	digest = func(key, msg []byte) []byte {
		if msg[0] == 'm' {
			return real(key, []byte("m"))
		}
		return real(key, msg)
	}
	t.Cleanup(func() { digest = real })
}

func TestCollisionKeepsTheFullID(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			s := open()
			collide(t)
			first, err := s.Mint(ctx, alice, []Item{{'m', graphID(1)}})
			require.NoError(t, err)
			require.NotEmpty(t, first[0])

			// A newcomer with the same handle, in a later batch and in the same one.
			later, err := s.Mint(ctx, alice, []Item{{'m', graphID(2)}, {'m', graphID(1)}})
			require.NoError(t, err)
			assert.Equal(t, []string{"", first[0]}, later)
			same, err := s.Mint(ctx, bob, []Item{{'m', graphID(3)}, {'m', graphID(4)}})
			require.NoError(t, err)
			assert.NotEmpty(t, same[0])
			assert.Empty(t, same[1])

			id, ok, err := s.Resolve(ctx, alice, first[0])
			require.NoError(t, err)
			assert.True(t, ok)
			assert.Equal(t, graphID(1), id, "never the newcomer's")
		})
	}
}

// clock is a settable time for the stores that take one.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestExpiry(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	mem := NewMemory()
	mem.now = c.now
	lite := NewSQLite(t.TempDir())
	lite.now = c.now
	t.Cleanup(func() { _ = lite.Close() })
	for name, s := range map[string]Store{"memory": mem, "sqlite": lite} {
		t.Run(name, func(t *testing.T) {
			c.t = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			collide(t)
			hs, err := s.Mint(ctx, alice, []Item{{'m', graphID(1)}})
			require.NoError(t, err)

			// Used within the TTL, it lasts: each use starts it again.
			for range 3 {
				c.t = c.t.Add(TTL - 24*time.Hour)
				_, ok, err := s.Resolve(ctx, alice, hs[0])
				require.NoError(t, err)
				require.True(t, ok)
			}
			c.t = c.t.Add(TTL)
			_, ok, err := s.Resolve(ctx, alice, hs[0])
			require.NoError(t, err)
			assert.False(t, ok, "idle for the TTL: forgotten")

			// An expired handle is free for another id.
			again, err := s.Mint(ctx, alice, []Item{{'m', graphID(2)}})
			require.NoError(t, err)
			assert.Equal(t, hs, again)
			id, _, _ := s.Resolve(ctx, alice, hs[0])
			assert.Equal(t, graphID(2), id)
		})
	}
}

func TestSQLiteLastsAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	s := NewSQLite(dir)
	hs, err := s.Mint(ctx, alice, []Item{{'m', graphID(1)}, {'f', "AAMkAGfolder"}})
	require.NoError(t, err)
	require.NoError(t, s.Close())

	again := NewSQLite(dir)
	defer again.Close()
	for i, want := range []string{graphID(1), "AAMkAGfolder"} {
		id, ok, err := again.Resolve(ctx, alice, hs[i])
		require.NoError(t, err)
		assert.True(t, ok)
		assert.Equal(t, want, id)
	}
}

func TestSQLiteOpensOnFirstUse(t *testing.T) {
	dir := t.TempDir() + "/state/outlook-mcp"
	s := NewSQLite(dir)
	defer s.Close()
	_, err := os.Stat(dir)
	assert.True(t, os.IsNotExist(err), "nothing on disk before the first use")
	_, _, err = s.Resolve(ctx, alice, "m123456789")
	require.NoError(t, err)
	info, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), info.Mode().Perm())
}

func TestSQLiteRefusesADirectoryOthersCanWrite(t *testing.T) {
	dir := t.TempDir() + "/shared"
	require.NoError(t, os.Mkdir(dir, 0o777))
	require.NoError(t, os.Chmod(dir, 0o777)) // whatever the umask
	s := NewSQLite(dir)
	defer s.Close()
	_, err := s.Mint(ctx, alice, []Item{{'m', graphID(1)}})
	assert.ErrorContains(t, err, "only its owner can write to")
	_, err = os.Stat(filepath.Join(dir, FileName))
	assert.True(t, os.IsNotExist(err))
}

// writer mints n handles of its own and n shared with the other writers,
// checking every one resolves to its id; it is the child process's work
// too (HANDLES_TEST_WRITER).
func writer(s Store, name string, n int) error {
	for i := range n {
		items := []Item{{'m', name + "-own-" + strconv.Itoa(i)}, {'m', graphID(i)}}
		hs, err := s.Mint(ctx, alice, items)
		if err != nil {
			return err
		}
		for j, h := range hs {
			if id, ok, err := s.Resolve(ctx, alice, h); err != nil || !ok || id != items[j].ID {
				return fmt.Errorf("%s: %s resolved to %q, %v, %v; want %s", name, h, id, ok, err, items[j].ID)
			}
		}
	}
	return nil
}

func TestMain(m *testing.M) {
	if dir := os.Getenv("HANDLES_TEST_WRITER"); dir != "" {
		n, _ := strconv.Atoi(os.Getenv("HANDLES_TEST_N"))
		if err := writer(NewSQLite(dir), "child", cmp.Or(n, 200)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// Two processes and two *sql.DB of this one write the same file at once:
// every handle resolves to its id, and the file stays whole.
func TestSQLiteConcurrentWriters(t *testing.T) {
	dir := t.TempDir()
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), "HANDLES_TEST_WRITER="+dir)
	var out strings.Builder
	child.Stdout, child.Stderr = &out, &out
	require.NoError(t, child.Start())

	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Go(func() {
			s := NewSQLite(dir)
			defer s.Close()
			errs[i] = writer(s, "db"+strconv.Itoa(i), 200)
		})
	}
	wg.Wait()
	require.NoError(t, child.Wait(), out.String())
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])

	s := NewSQLite(dir)
	defer s.Close()
	db, err := s.open()
	require.NoError(t, err)
	var check string
	require.NoError(t, db.QueryRow(`PRAGMA integrity_check`).Scan(&check))
	assert.Equal(t, "ok", check)
	var rows int
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM handles`).Scan(&rows))
	assert.Equal(t, 3*200+200, rows, "each writer's own ids, and the shared ones once")
	var mode string
	require.NoError(t, db.QueryRow(`PRAGMA journal_mode`).Scan(&mode))
	assert.Equal(t, "wal", mode)
}

// A process killed in the middle of its writes leaves the file whole, and
// what it committed readable.
func TestSQLiteSurvivesAKilledWriter(t *testing.T) {
	dir := t.TempDir()
	before := NewSQLite(dir)
	hs, err := before.Mint(ctx, alice, []Item{{'m', graphID(1)}})
	require.NoError(t, err)
	require.NoError(t, before.Close())

	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), "HANDLES_TEST_WRITER="+dir, "HANDLES_TEST_N=1000000")
	require.NoError(t, child.Start())
	s := NewSQLite(dir)
	defer s.Close()
	db, err := s.open()
	require.NoError(t, err)
	// Kill it once it has written a while, mid-transaction as likely as not.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		var n int
		require.NoError(t, db.QueryRow(`SELECT count(*) FROM handles`).Scan(&n))
		if n > 200 || time.Now().After(deadline) {
			break
		}
	}
	require.NoError(t, child.Process.Kill())
	_ = child.Wait()

	var check string
	require.NoError(t, db.QueryRow(`PRAGMA integrity_check`).Scan(&check))
	assert.Equal(t, "ok", check)
	id, ok, err := s.Resolve(ctx, alice, hs[0])
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, graphID(1), id)
	more, err := s.Mint(ctx, alice, []Item{{'m', "after the crash"}})
	require.NoError(t, err)
	assert.NotEmpty(t, more[0], "the lock the dead process held is gone")
}

func BenchmarkMint(b *testing.B) {
	for name, s := range map[string]Store{"memory": NewMemory(), "sqlite": NewSQLite(b.TempDir())} {
		b.Run(name, func(b *testing.B) {
			items := make([]Item, 10)
			for i := range items {
				items[i] = Item{'m', graphID(i)}
			}
			hs, _ := s.Mint(ctx, alice, items)
			b.ResetTimer()
			for b.Loop() {
				if _, err := s.Mint(ctx, alice, items); err != nil {
					b.Fatal(err)
				}
				if _, _, err := s.Resolve(ctx, alice, hs[0]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
