package ns

import (
	"errors"
	"os"
	"strconv"
	"syscall"
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
	return KillPIDs(pids...)
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

func itoa(n int) string {
	return strconv.Itoa(n)
}
