package cgroupslab

import "syscall"

// probeAttr: a probe gets SIGKILL when the checker that started it dies
// (prctl PR_SET_PDEATHSIG), so a crash never leaves one running.
func probeAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// workloadAttr: a workload is a session leader of its own (setsid(2)), so
// it outlives the command that started it and its terminal.
func workloadAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setsid: true}
}
