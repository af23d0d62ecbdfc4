package ns

import (
	"errors"
	"fmt"
	"os/exec"
	"syscall"
	"time"
)

// ObserveInitDeath runs the experiment of the pid lab on a throwaway
// thread: unshare(CLONE_NEWPID) (the thread's children go to a new PID
// namespace), start two holders (PID 1 and PID 2 there), SIGKILL PID 1,
// see whether PID 2 survives, then try to start a third process. The
// kernel's zap_pid_ns_processes() kills every other process of a
// namespace whose init exits, and alloc_pid() then refuses new PIDs in it
// with ENOMEM, which is why a shell left in such a namespace prints
// "fork: Cannot allocate memory".
func ObserveInitDeath(timeout time.Duration) (InitDeath, error) {
	type result struct {
		d   InitDeath
		err error
	}
	var r result
	// onThread restores the thread's pid_for_children afterwards (setns
	// to the thread's own PID namespace).
	err := onThread([]Kind{PID}, func() error {
		r.d, r.err = initDeath(timeout)
		return nil
	})
	if err != nil {
		return r.d, err
	}
	return r.d, r.err
}

func initDeath(timeout time.Duration) (InitDeath, error) {
	var d InitDeath
	if err := Unshare(PID); err != nil {
		return d, err
	}
	first := HoldCommand(Spec{}, HoldOptions{})
	if err := first.Start(); err != nil {
		return d, fmt.Errorf("start PID 1: %w", err)
	}
	second := HoldCommand(Spec{}, HoldOptions{})
	if err := second.Start(); err != nil {
		_ = first.Process.Kill()
		_ = first.Wait()
		return d, fmt.Errorf("start PID 2: %w", err)
	}
	d.InitPID, d.OtherPID = first.Process.Pid, second.Process.Pid
	// Reap PID 2 before PID 1: a dying init waits in the kernel until
	// every other process of its namespace has been reaped, and PID 2's
	// parent is this process, not that init.
	_ = first.Process.Kill()
	ended := make(chan error, 1)
	go func() { ended <- second.Wait() }()
	select {
	case err := <-ended:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				d.OtherKilled, d.OtherSignal = true, ws.Signal().String()
			}
		}
	case <-time.After(timeout):
		_ = second.Process.Kill()
		<-ended
	}
	_ = first.Wait()

	third := HoldCommand(Spec{}, HoldOptions{})
	err := third.Start()
	if err == nil {
		_ = third.Process.Kill()
		_ = third.Wait()
		d.ForkErr = "none: the process started"
		return d, nil
	}
	d.ForkErr = err.Error()
	d.ForkENOMEM = errors.Is(err, syscall.ENOMEM)
	return d, nil
}
