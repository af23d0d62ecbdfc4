package ctrinit

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// WaitMain is lab-init's second role: the supervisor of a detached
// container replaces itself with it while the container runs, because
// lab-init is small (see kernel/container's waitSmall). Arguments:
// "wait PID LAB ARGV0 ROOT ID". execve(2) kept the supervisor's children,
// so this process is still the parent of the container's PID 1 and can
// wait4(2) it. Then it execs LAB, named ARGV0 (the supervisor's
// kernel/reexec entry), with "finish ROOT ID CODE" to record the exit
// code and release the container's cgroup and network.
func WaitMain() {
	if len(os.Args) != 7 {
		fmt.Fprintln(os.Stderr, "lab-init wait: want PID LAB ARGV0 ROOT ID")
		os.Exit(ExitEngine)
	}
	pid, err := strconv.Atoi(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, "lab-init wait:", err)
		os.Exit(ExitEngine)
	}
	lab, argv0, root, id := os.Args[3], os.Args[4], os.Args[5], os.Args[6]
	DropExecutablePages()
	code := waitExitCode(pid)
	argv := []string{argv0, "finish", root, id, strconv.Itoa(code)}
	err = unix.Exec(lab, argv, []string{})
	fmt.Fprintf(os.Stderr, "lab-init wait: exec %s: %v\n", lab, err)
	os.Exit(ExitEngine)
}

// waitExitCode waits for child pid and returns docker's exit code: its
// exit status, or 128+N after signal N.
func waitExitCode(pid int) int {
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(pid, &ws, 0, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return ExitEngine
		}
		break
	}
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}
