package extract

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// limitProcess limits the child's CPU time and address space. The address
// space limit is the hard stop behind the watchdog: an allocation beyond it
// fails, and Go's runtime exits "out of memory". It counts from what the
// child has reserved at start (about 1.5 GB of address space on amd64, nearly
// all of it never touched). Under the race detector, whose shadow memory
// takes address space of its own, only the watchdog limits memory.
func limitProcess(l Limits) {
	limitCPU(l.CPU)
	if l.AddressSpace <= 0 || raceEnabled {
		return
	}
	as := uint64(l.AddressSpace) + reserved()
	if err := syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: as, Max: as}); err != nil {
		fmt.Fprintln(os.Stderr, "extract child: RLIMIT_AS:", err) // the watchdog still holds
	}
}

// reserved is the process's address space now, in bytes.
func reserved() uint64 {
	statm, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 4 << 30 // unknown: leave room for the runtime's reservations
	}
	pages, _ := strconv.ParseUint(strings.Fields(string(statm))[0], 10, 64)
	return pages * uint64(os.Getpagesize())
}
