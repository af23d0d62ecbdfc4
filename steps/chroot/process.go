package chrootlab

import (
	"context"
	"fmt"
	"strings"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/checker/probe"
	"github.com/lab-edu/lab/kernel/rootfs"
	"github.com/lab-edu/lab/steps"
)

// Process: a long-lived process whose root directory is the rootfs.
var Process = steps.Step{
	ID:    "chroot/process",
	Title: "Run a long-lived process inside the rootfs",
	Setup: Rootfs.Solve,
	Check: checkProcess,
	Solve: func(ctx context.Context, env *steps.Env) error {
		pid, err := rootfs.StartDetached(rootfs.Command(rootfsDir(env.Dir), "/bin/sleep", "1000000"))
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Log, "started PID %d: chroot %s /bin/sleep 1000000\n", pid, rootfsDir(env.Dir))
		return waitFor(ctx, func() bool { return hasRoot(env.Host, pid, rootfsDir(env.Dir)) })
	},
	Cleanup: func(ctx context.Context, env *steps.Env) error { return teardown(env.Dir) },
}

// checkProcess finds, among all processes, one whose /proc/PID/root is the
// rootfs: whoever started it and however (chroot(8), a shell, lab).
func checkProcess(ctx context.Context, h checker.Host) checker.Result {
	const name = "a process rooted in the rootfs"
	dir := rootfsDir(workOf(h))
	found, err := probe.WithRoot(h.FS(), dir)
	if err != nil {
		return checker.Errored(name, err)
	}
	if len(found) == 0 {
		return checker.Mismatch(name, "a process whose /proc/PID/root is "+dir, "none",
			"start one that stays: setsid chroot "+dir+" /bin/sleep 1000000 </dev/null >/dev/null 2>&1 &")
	}
	var ev []string
	for _, p := range found {
		ev = append(ev, p.String()+" has root "+dir)
	}
	return checker.Passed(name, ev...)
}

func hasRoot(h checker.Host, pid int, dir string) bool {
	found, _ := probe.WithRoot(h.FS(), dir)
	for _, p := range found {
		if p.PID == pid && !strings.HasPrefix(p.Comm, "exe") {
			return true
		}
	}
	return false
}
