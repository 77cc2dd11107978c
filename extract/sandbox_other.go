//go:build unix && !linux

package extract

// limitProcess limits the child's CPU time. macOS (and other Unixes we do
// not test on) accept RLIMIT_AS but do not enforce it: the watchdog in the
// child (watchMemory) is the memory limit there.
func limitProcess(l Limits) { limitCPU(l.CPU) }
