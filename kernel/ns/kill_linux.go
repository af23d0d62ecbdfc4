package ns

import (
	"errors"
	"os"
	"strconv"
	"syscall"
	"time"
)

// Kill sends SIGKILL to every process in namespace id (found in the host's
// /proc). Killing PID 1 of a PID namespace is enough to end it all (the
// kernel then kills the rest), but a UTS or IPC namespace lives until its
// last process is gone. A process that has already exited is not an error.
func Kill(id ID) error {
	pids, err := Processes(os.DirFS("/"), id)
	if err != nil {
		return err
	}
	return KillAndWait(5*time.Second, pids...)
}

// KillPIDs sends SIGKILL to each process; ESRCH (already gone) is success.
func KillPIDs(pids ...int) error {
	var errs []error
	self := os.Getpid()
	for _, pid := range pids {
		if pid == self || pid <= 1 {
			continue
		}
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			errs = append(errs, &os.PathError{Op: "kill", Path: "/proc/" + itoa(pid), Err: err})
		}
	}
	return errors.Join(errs...)
}

// KillAndWait is KillPIDs, then waits (up to timeout) until the kernel
// has taken each process out of its namespaces. A killed process first
// loses its memory and executable and only later its namespaces, and in
// that window nsenter can still join them: a cleanup that returns early
// could let the next command join a namespace that is being torn down.
func KillAndWait(timeout time.Duration, pids ...int) error {
	err := KillPIDs(pids...)
	deadline := time.Now().Add(timeout)
	for _, pid := range pids {
		for inNamespaces(pid) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
	}
	return err
}

// inNamespaces reports whether pid still has namespaces (its /proc/PID/ns
// links still read): false once it has exited, even as a zombie.
func inNamespaces(pid int) bool {
	_, err := os.Readlink("/proc/" + itoa(pid) + "/ns/user")
	return err == nil
}

func itoa(n int) string {
	return strconv.Itoa(n)
}
