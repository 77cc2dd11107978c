package main

import (
	"os/exec"
	"syscall"
)

// dieWithThisProcess has cmd killed should this process die before
// stopping it (log.Fatal).
func dieWithThisProcess(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
