package extract

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
	"unicode/utf8"
)

// The sandbox: a format that is not safe to parse in the server is parsed
// by a child process of the same binary (os.Executable, with childEnv set),
// under Limits. Whatever the child does (crash, run out of memory, loop),
// the server carries on and the caller gets an *UnsafeError naming it.
//
// Protocol: the parent writes one JSON line (request: format, limit,
// limits, size) and then exactly size bytes of the file on the child's
// stdin. The child applies its limits before it reads the file, extracts,
// and writes one JSON response (a Result, or an error message for a file
// that is merely not what it claims) on stdout, then exits 0. The parent
// reads at most a bounded amount of stdout and stderr, and at the deadline
// (Limits.Wall, or the caller's if sooner) kills the child's whole process
// group (Windows: the process, then its job when the call ends).

// Limits bound one extraction in the sandbox.
type Limits struct {
	// Memory is what the child's Go runtime may map (heap, stacks): a
	// watchdog in the child enforces it on every OS.
	Memory int64
	// AddressSpace is the hard limit behind the watchdog, where the OS has
	// one: Linux limits the address space to what the child had reserved
	// at start plus this (RLIMIT_AS), Windows the job's committed memory
	// to this. 0: the watchdog alone, as on macOS, which ignores RLIMIT_AS.
	AddressSpace int64
	CPU          time.Duration // CPU time (RLIMIT_CPU; Windows: the job's user time)
	Wall         time.Duration // wall clock, from start to kill, on every OS
}

// DefaultLimits are the sandbox's limits in the server. They leave a wide
// margin: a 21 MB PDF of 2000 pages is read whole (10 million characters,
// read_attachment's most) in 0.6 s with a peak RSS of 100 MB.
var DefaultLimits = Limits{Memory: 512 << 20, AddressSpace: 1 << 30, CPU: 10 * time.Second, Wall: 15 * time.Second}

const (
	childEnv = "OUTLOOK_MCP_EXTRACT_CHILD"
	// maxChildren is how many children run at once; others wait (within
	// their call's deadline), so many hostile files at once cannot take
	// the machine's memory either.
	maxChildren = 4
	maxStderr   = 8 << 10  // the start of a crash report names its cause
	maxInput    = 64 << 20 // bytes a child accepts
	maxStack    = 64 << 20 // the child's goroutine stack (Go's default: 1 GB)
	// Exit codes of a child that stopped itself at a limit. Go's runtime
	// exits 2 on a fatal error or an unrecovered panic.
	exitMemory = 3
	exitCPU    = 4
)

// UnsafeError is a file whose reader crashed or exceeded a limit and was
// stopped: Reason says which, for a person.
type UnsafeError struct{ Reason string }

func (e *UnsafeError) Error() string { return "could not be read safely: " + e.Reason }

func notSafe(format string, a ...any) error { return &UnsafeError{Reason: fmt.Sprintf(format, a...)} }

type request struct {
	Format string `json:"format"`
	Limit  int    `json:"limit"` // characters of text wanted
	Size   int    `json:"size"`  // bytes of the file that follow
	Limits Limits `json:"limits"`
}

type response struct {
	Result
	Error string `json:"error,omitempty"`
}

var children = make(chan struct{}, maxChildren)

func sandboxed(ctx context.Context, format string, data []byte, limit int, lim Limits) (*Result, error) {
	if os.Getenv(childEnv) != "" {
		// A child that did not stop in RunChildIfRequested would start
		// children of its own, and so on.
		return nil, errors.New("extract: RunChildIfRequested was not called first thing in main (or TestMain)")
	}
	if len(data) > maxInput {
		return nil, fmt.Errorf("the file is larger than %d MB", maxInput>>20)
	}
	select {
	case children <- struct{}{}:
		defer func() { <-children }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("cannot start the sandbox: %w", err)
	}
	header, err := json.Marshal(request{Format: format, Limit: limit, Size: len(data), Limits: lim})
	if err != nil {
		return nil, err
	}

	runCtx, cancel := context.WithTimeout(ctx, lim.Wall)
	defer cancel()
	cmd := exec.CommandContext(runCtx, exe)
	// Nothing of the server's environment (its Nango key) reaches the child.
	cmd.Env = []string{childEnv + "=1", "GOMAXPROCS=1", "GOTRACEBACK=none"}
	if raceEnabled {
		cmd.Env = append(cmd.Env, "GORACE=atexit_sleep_ms=0") // not a second's sleep at each exit
	}
	// The file goes in only once the child is under its limits (Windows
	// attaches them after start); the gate always opens, so the copy never
	// blocks for ever, and WaitDelay bounds the pipes after the child ends.
	gate := make(chan struct{})
	cmd.Stdin = &gated{open: gate, r: io.MultiReader(bytes.NewReader(append(header, '\n')), bytes.NewReader(data))}
	stdout := &capped{max: 6*limit + 64<<10, failOver: true} // ≤ 6 bytes a character in JSON
	stderr := &capped{max: maxStderr}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.WaitDelay = time.Second
	isolate(cmd)
	if err := cmd.Start(); err != nil {
		close(gate)
		return nil, fmt.Errorf("cannot start the sandbox: %w", err)
	}
	release := confine(cmd.Process, lim)
	close(gate)
	waitErr := cmd.Wait()
	release()

	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return nil, ctx.Err() // the caller gave up: not the file's fault
	case runCtx.Err() != nil && waitErr != nil: // killed at the deadline
		return nil, notSafe("reading it took too long (more than %s), so it was stopped", lim.Wall)
	case waitErr != nil && !errors.As(waitErr, &exitErr) && !errors.Is(waitErr, errOutputCap):
		return nil, fmt.Errorf("the sandbox failed: %w", waitErr)
	}
	if why := failure(cmd.ProcessState, stderr.String(), stdout.over, lim); why != nil {
		return nil, why
	}
	var resp response
	if err := json.Unmarshal(stdout.Bytes(), &resp); err != nil {
		return nil, notSafe("its reader crashed (its answer was unreadable: %s)", brief(err.Error()))
	}
	if resp.Error != "" {
		return nil, errors.New(resp.Error)
	}
	res := &resp.Result
	if res.Chars != utf8.RuneCountInString(res.Text) || res.Chars > limit {
		return nil, notSafe("its reader crashed (it answered %d characters for at most %d)", res.Chars, limit)
	}
	return res, nil
}

// failure names why a child that ended did not answer, or is nil.
func failure(state *os.ProcessState, stderr string, overflowed bool, lim Limits) error {
	cpu := state.UserTime() + state.SystemTime()
	switch {
	case overflowed:
		return notSafe("its reader crashed (it wrote more than it was asked for)")
	case state.ExitCode() == exitMemory || strings.Contains(stderr, "out of memory") || strings.Contains(stderr, "cannot allocate memory"):
		return notSafe("it needed too much memory (more than %d MB), so it was stopped", lim.Memory>>20)
	case state.ExitCode() == exitCPU || !state.Success() && cpu >= lim.CPU:
		return notSafe("reading it took too long (more than %s of CPU time), so it was stopped", lim.CPU)
	case strings.Contains(stderr, "stack overflow") || strings.Contains(stderr, "stack exceeds"):
		return notSafe("its reader crashed (stack overflow: the file's objects nest or refer to each other without end)")
	case !state.Success():
		return notSafe("its reader crashed (%s)", crashReport(stderr, state))
	}
	return nil
}

// crashReport is the line of a crash report that says what happened.
func crashReport(stderr string, state *os.ProcessState) string {
	for line := range strings.Lines(stderr) {
		if strings.HasPrefix(line, "fatal error: ") || strings.HasPrefix(line, "panic: ") || strings.HasPrefix(line, "runtime: ") {
			return brief(line)
		}
	}
	return state.String() // "signal: killed", "exit status 1"
}

// gated reads r once open is closed.
type gated struct {
	open <-chan struct{}
	r    io.Reader
}

func (g *gated) Read(p []byte) (int, error) {
	<-g.open
	return g.r.Read(p)
}

// capped keeps the first max bytes written to it. Past them it either
// drops the rest (stderr: the start says what happened) or fails the write
// (stdout: the child then dies of a broken pipe rather than go on).
type capped struct {
	bytes.Buffer
	max      int
	failOver bool
	over     bool
}

var errOutputCap = errors.New("extract: the child wrote more than its output limit")

func (c *capped) Write(p []byte) (int, error) {
	room := c.max - c.Len()
	if len(p) <= room {
		return c.Buffer.Write(p)
	}
	c.over = true
	c.Buffer.Write(p[:max(room, 0)])
	if c.failOver {
		return 0, errOutputCap
	}
	return len(p), nil
}
