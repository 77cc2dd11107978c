package extract

import (
	"fmt"
	"os"
	"syscall"
)

// limitProcess limits the child's CPU time and address space. The address
// space limit (twice Limits.Memory) is the hard stop behind the watchdog:
// an allocation beyond it fails, and Go's runtime exits "out of memory".
// Under the race detector, whose shadow memory is terabytes of address
// space, only the watchdog limits memory.
func limitProcess(l Limits) {
	limitCPU(l.CPU)
	if raceEnabled {
		return
	}
	as := uint64(2 * l.Memory)
	if err := syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: as, Max: as}); err != nil {
		fmt.Fprintln(os.Stderr, "extract child: RLIMIT_AS:", err) // the watchdog still holds
	}
}
