package extract

import (
	"context"
	"os"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outlook-mcp/outlook-mcp/extract/extracttest"
)

// testLimits are small, so that the tests run fast. The wall clock leaves
// the CPU limit room to act on a loaded machine.
var testLimits = Limits{Memory: 256 << 20, AddressSpace: 512 << 20, CPU: 2 * time.Second, Wall: 10 * time.Second}

func TestSandboxReadsAValidPDFAsInProcess(t *testing.T) {
	pdf := extracttest.TextPDF("Quarterly report\nRevenue grew 12%.", "Page two (with parentheses)")
	want, err := inProcess(context.Background(), PDF, pdf, 1000)
	require.NoError(t, err)
	require.Contains(t, want.Text, "Revenue grew 12%.")

	got, err := sandboxed(context.Background(), PDF, pdf, 1000, testLimits)
	require.NoError(t, err)
	assert.Equal(t, want, got)

	// Paging: at most limit characters, and Full says more follows.
	got, err = sandboxed(context.Background(), PDF, pdf, 10, testLimits)
	require.NoError(t, err)
	assert.Equal(t, &Result{Text: "Quarterly ", Chars: 10, Full: true}, got)
}

func TestSandboxPassesOnOrdinaryErrors(t *testing.T) {
	_, err := sandboxed(context.Background(), PDF, []byte("%PDF-1.4\nthis is not a pdf"), 1000, testLimits)
	assert.ErrorContains(t, err, "not a readable PDF")
	assert.NotErrorAs(t, err, new(*UnsafeError), "a file that is merely not a PDF is no danger")

	_, err = sandboxed(context.Background(), DOCX, zipOf(t, "word/other.xml", "<x/>"), 1000, testLimits)
	assert.EqualError(t, err, "not a Word document: it has no word/document.xml")

	doc := wordDoc(t, "<w:p><w:r><w:t>Hello from Word</w:t></w:r></w:p>")
	res, err := sandboxed(context.Background(), DOCX, doc, 1000, testLimits)
	require.NoError(t, err)
	assert.Equal(t, "Hello from Word", res.Text)
}

// Each hostile PDF ends in a clear error, within the limits, with its
// child gone and the parent as it was.
func TestSandboxStopsEveryHostilePDF(t *testing.T) {
	want := map[string]string{
		"objstm-cycle":        "its reader crashed (stack overflow",
		"xref-size":           "it needed too much memory (more than 256 MB)",
		"xref-index":          "it needed too much memory (more than 256 MB)",
		"objstm-extends-self": "reading it took too long (more than ", // 2s of CPU time, or 10s if the machine is busy
	}
	goroutines, mapped := runtime.NumGoroutine(), parentMemory()
	for _, h := range extracttest.HostilePDFs() {
		t.Run(h.Name, func(t *testing.T) {
			start := time.Now()
			res, err := sandboxed(context.Background(), PDF, h.Data, 1000, testLimits)
			took := time.Since(start)
			t.Logf("%s: %v after %s", h.Name, err, took.Round(time.Millisecond))
			assert.Nil(t, res)
			var unsafe *UnsafeError
			require.ErrorAs(t, err, &unsafe)
			assert.True(t, strings.HasPrefix(unsafe.Reason, want[h.Name]), unsafe.Reason)
			assert.Less(t, took, testLimits.Wall+time.Second, "stopped within its limits")
			assert.Empty(t, extracttest.Children(os.Getpid()), "the child is gone")
		})
	}
	for deadline := time.Now().Add(2 * time.Second); runtime.NumGoroutine() > goroutines && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	assert.LessOrEqual(t, runtime.NumGoroutine(), goroutines, "goroutines left behind")
	assert.Less(t, parentMemory()-mapped, int64(32<<20), "the parent's memory grew")
}

func TestSandboxRunsAtMostFourChildrenAtOnce(t *testing.T) {
	// Ten hostile files at once: at most maxChildren children (each with
	// its memory limit) run together; the others wait their turn, and all
	// are refused.
	var busiest atomic.Int32
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
				busiest.Store(max(busiest.Load(), int32(len(extracttest.Children(os.Getpid())))))
				time.Sleep(time.Millisecond)
			}
		}
	}()
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			_, err := sandboxed(context.Background(), PDF, hostile(t, []string{"objstm-cycle", "xref-size"}[i%2]), 1000, testLimits)
			assert.ErrorAs(t, err, new(*UnsafeError))
		})
	}
	wg.Wait()
	close(stop)
	t.Logf("at most %d children at once", busiest.Load())
	assert.LessOrEqual(t, busiest.Load(), int32(maxChildren))
	if runtime.GOOS == "linux" {
		assert.Positive(t, busiest.Load(), "children were seen")
	}
}

func TestSandboxWatchdogAloneStopsAGrowingChild(t *testing.T) {
	// Without an OS memory limit (macOS, or the race detector on Linux)
	// the watchdog in the child is the limit. The file is under 100 KB;
	// its text is 24 MB, read into memory at once.
	pdf := extracttest.DeflatedTextPDF(24 << 20)
	require.Less(t, len(pdf), 100<<10)
	lim := testLimits
	lim.Memory, lim.AddressSpace = 64<<20, 0
	lim.CPU, lim.Wall = 30*time.Second, 30*time.Second // the race detector slows the child down
	_, err := sandboxed(context.Background(), PDF, pdf, 1000, lim)
	var unsafe *UnsafeError
	require.ErrorAs(t, err, &unsafe)
	assert.Equal(t, "it needed too much memory (more than 64 MB), so it was stopped", unsafe.Reason)
}

func TestSandboxKillsAtTheWallClockLimit(t *testing.T) {
	lim := testLimits
	lim.CPU, lim.Wall = time.Minute, time.Second
	loop := hostile(t, "objstm-extends-self")
	start := time.Now()
	_, err := sandboxed(context.Background(), PDF, loop, 1000, lim)
	assert.EqualError(t, err, "could not be read safely: reading it took too long (more than 1s), so it was stopped")
	assert.Less(t, time.Since(start), 3*time.Second)
	assert.Empty(t, extracttest.Children(os.Getpid()))
}

func TestSandboxKillsAtTheCallersDeadline(t *testing.T) {
	lim := testLimits
	lim.CPU, lim.Wall = time.Minute, time.Minute
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	_, err := sandboxed(ctx, PDF, hostile(t, "objstm-extends-self"), 1000, lim)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "the caller's own error, not the file's")
	assert.Less(t, time.Since(start), 3*time.Second)
	assert.Empty(t, extracttest.Children(os.Getpid()))
}

func TestReadSandboxesAllButTextFormats(t *testing.T) {
	// A format Read knows nothing about goes to the sandbox, which says so.
	_, err := Read(context.Background(), "spreadsheet", []byte("x"), 10)
	assert.EqualError(t, err, `no reader for the format "spreadsheet"`)
	for _, f := range []string{Text, Calendar, HTML} {
		assert.True(t, inProcessFormats[f], f)
	}
	for _, f := range []string{PDF, DOCX} {
		assert.False(t, inProcessFormats[f], f)
	}
}

func TestCappedKeepsTheStart(t *testing.T) {
	c := &capped{max: 5}
	n, err := c.Write([]byte("abc"))
	assert.Equal(t, 3, n)
	require.NoError(t, err)
	n, err = c.Write([]byte("defgh"))
	assert.Equal(t, 5, n, "stderr: the rest is dropped, the child is not stopped")
	require.NoError(t, err)
	assert.Equal(t, "abcde", c.String())
	assert.True(t, c.over)

	c = &capped{max: 2, failOver: true}
	_, err = c.Write([]byte("abc"))
	assert.ErrorIs(t, err, errOutputCap, "stdout: the child is stopped")
}

func hostile(t *testing.T, name string) []byte {
	for _, h := range extracttest.HostilePDFs() {
		if h.Name == name {
			return h.Data
		}
	}
	t.Fatalf("no hostile PDF %q", name)
	return nil
}

// parentMemory is what this process's Go runtime has mapped.
func parentMemory() int64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64())
}
