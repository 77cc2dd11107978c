//go:build unix

package extract

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"
)

// isolate puts the child in a process group of its own, and the deadline
// kills the whole group.
func isolate(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}

// confine does nothing on Unix: the child limits itself (limitProcess)
// before it reads the file.
func confine(*os.Process, Limits) (release func()) { return func() {} }

// limitCPU sets RLIMIT_CPU. At the soft limit the kernel sends SIGXCPU,
// which Go ignores unless asked: the child then exits with exitCPU. A
// second later the hard limit kills it anyway. It also bounds a child the
// server left behind (the server killed mid-call): the child cannot loop
// for ever.
func limitCPU(d time.Duration) {
	secs := uint64(max(d.Round(time.Second)/time.Second, 1))
	var rl syscall.Rlimit
	set(&rl.Cur, secs)
	set(&rl.Max, secs+1)
	if err := syscall.Setrlimit(syscall.RLIMIT_CPU, &rl); err != nil {
		fmt.Fprintln(os.Stderr, "extract child: RLIMIT_CPU:", err) // the wall clock limit still holds
	}
	xcpu := make(chan os.Signal, 1)
	signal.Notify(xcpu, syscall.SIGXCPU)
	go func() {
		<-xcpu
		fmt.Fprintln(os.Stderr, "extract child: CPU time limit exceeded")
		os.Exit(exitCPU)
	}()
}

// set sets a field of syscall.Rlimit: uint64 on most systems, int64 on some BSDs.
func set[T ~uint64 | ~int64](field *T, v uint64) { *field = T(v) }
