package extract

import (
	"os"
	"os/exec"
	"unsafe"

	"golang.org/x/sys/windows"
)

// isolate: the deadline's kill (exec's default Cancel, TerminateProcess)
// ends the child; the job (confine) ends anything it left.
func isolate(*exec.Cmd) {}

// confine puts the child in a job object that limits its committed memory
// (Limits.AddressSpace; like RLIMIT_AS on Linux) and its CPU time, and
// kills it when the job's handle closes: after the call, or when the
// server itself dies. The child reads the file only after this (the stdin
// gate). If Windows refuses the job, the watchdog in the child and the
// wall clock deadline still hold.
func confine(p *os.Process, l Limits) (release func()) {
	job, err := windows.CreateJobObject(nil, nil)
	if err != nil {
		return func() {}
	}
	release = func() { windows.CloseHandle(job) }
	info := windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION{
		BasicLimitInformation: windows.JOBOBJECT_BASIC_LIMIT_INFORMATION{
			LimitFlags: windows.JOB_OBJECT_LIMIT_PROCESS_TIME | windows.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE |
				windows.JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION,
			PerProcessUserTimeLimit: int64(l.CPU / 100), // in 100 ns ticks
		},
	}
	if l.AddressSpace > 0 {
		info.BasicLimitInformation.LimitFlags |= windows.JOB_OBJECT_LIMIT_PROCESS_MEMORY
		info.ProcessMemoryLimit = uintptr(l.AddressSpace)
	}
	if _, err := windows.SetInformationJobObject(job, windows.JobObjectExtendedLimitInformation,
		uintptr(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info))); err != nil {
		return release
	}
	h, err := windows.OpenProcess(windows.PROCESS_SET_QUOTA|windows.PROCESS_TERMINATE, false, uint32(p.Pid))
	if err != nil {
		return release
	}
	defer windows.CloseHandle(h)
	_ = windows.AssignProcessToJobObject(job, h)
	return release
}

// limitProcess does nothing on Windows: the parent's job limits the child.
func limitProcess(Limits) {}
