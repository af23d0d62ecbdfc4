//go:build linux

// Command floor is the least a Go container runtime does: clone(2) a child
// in new pid, uts, mount, ipc and net namespaces, exec /bin/true in it and
// wait. No cgroup, no root file system, no state. bench/run-vs-crun.sh
// times it beside lab and crun: the gap between floor and crun is what a
// Go runtime has for everything else.
//
// `floor start` returns at once: the start and exit of a small Go program,
// the least any Go command line tool costs before it does anything.
package main

import (
	"os"
	"os/exec"
	"syscall"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "start" {
		return
	}
	cmd := exec.Command("/bin/true")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID | syscall.CLONE_NEWUTS |
		syscall.CLONE_NEWNS | syscall.CLONE_NEWIPC | syscall.CLONE_NEWNET}
	if err := cmd.Run(); err != nil {
		os.Exit(1)
	}
}
