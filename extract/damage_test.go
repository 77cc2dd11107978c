package extract

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outlook-mcp/outlook-mcp/extract/extracttest"
)

// The hostile PDFs are real: read in process, without the sandbox, as the
// server read them before, each one kills its process or never ends. Each
// is tried in a throwaway process (this test binary again) under an
// address-space limit of 4 GB, so the machine running the tests is safe.

const inProcessEnv = "EXTRACT_TEST_IN_PROCESS"

// runInProcessIfRequested reads the hostile PDF named by inProcessEnv in
// this process, with nothing but the extractor's own defences, and exits.
func runInProcessIfRequested() {
	name := os.Getenv(inProcessEnv)
	if name == "" {
		return
	}
	for _, h := range extracttest.HostilePDFs() {
		if h.Name == name {
			res, err := inProcess(context.Background(), PDF, h.Data, 1000)
			fmt.Printf("survived: %v %v\n", res, err)
			os.Exit(0)
		}
	}
	os.Exit(1)
}

func TestHostilePDFsKillAProcessThatReadsThemInProcess(t *testing.T) {
	if runtime.GOOS != "linux" || raceEnabled || testing.Short() {
		t.Skip("needs Linux's ulimit -v and no race detector; not in -short")
	}
	exe, err := os.Executable()
	require.NoError(t, err)
	for _, h := range extracttest.HostilePDFs() {
		t.Run(h.Name, func(t *testing.T) {
			wait := 20 * time.Second // growing a stack to 1 GB takes seconds
			if h.Damage == "an endless loop" {
				wait = 3 * time.Second // a PDF this small is read in milliseconds
			}
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			cmd := exec.CommandContext(ctx, "sh", "-c", `ulimit -v 4000000 && exec "$0"`, exe)
			cmd.Env = append(os.Environ(), inProcessEnv+"="+h.Name)
			start := time.Now()
			out, err := cmd.CombinedOutput()
			t.Logf("%s after %s: %v\n%s", h.Name, time.Since(start).Round(time.Millisecond), err, firstLines(string(out), 3))
			require.Error(t, err, "the process survived")
			assert.NotContains(t, string(out), "survived")
			if h.Damage == "an endless loop" {
				assert.ErrorIs(t, ctx.Err(), context.DeadlineExceeded, "still running after 3 s: killed")
				return
			}
			assert.Contains(t, string(out), h.Damage)
		})
	}
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], "\n")
}
