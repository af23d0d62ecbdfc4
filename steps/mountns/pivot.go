package mountlab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/checker/probe"
	"github.com/lab-edu/lab/kernel/rootfs"
	"github.com/lab-edu/lab/steps"
	chrootlab "github.com/lab-edu/lab/steps/chroot"
)

// Pivot: pivot_root into a rootfs in a new mount namespace, old root
// detached. The same jail as the chroot lab's last step, checked the same
// way (mountinfo, then the escape run from inside it).
var Pivot = steps.Step{
	ID:        "mount/pivot",
	Title:     "pivot_root into a rootfs and detach the old root",
	Points:    20,
	Setup:     pivotRootfs,
	Materials: pivotRootfs,
	Check:     chrootlab.CheckJail(func(h checker.Host) string { return filepath.Join(workOf(h), rootfsName) }, true),
	Solve: func(ctx context.Context, env *steps.Env) error {
		dir := filepath.Join(env.Dir, rootfsName)
		pid, err := rootfs.StartDetached(rootfs.PivotCommand(dir, sleeper...))
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Log, "started PID %d pivoted into %s\n", pid, dir)
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			found, _ := probe.WithRoot(env.Host.FS(), dir)
			for _, p := range found {
				if p.PID == pid && p.Comm == "sleep" {
					return nil
				}
			}
			time.Sleep(10 * time.Millisecond)
		}
		return fmt.Errorf("mount: PID %d did not pivot into %s in time", pid, dir)
	},
	Cleanup: func(ctx context.Context, env *steps.Env) error {
		if err := rootfs.Vacate(env.Dir); err != nil {
			return err
		}
		return os.RemoveAll(filepath.Join(env.Dir, rootfsName))
	},
}

// pivotRootfs is the busybox root file system the step pivots into.
func pivotRootfs(ctx context.Context, env *steps.Env) error {
	return rootfs.BuildBusybox(ctx, filepath.Join(env.Dir, rootfsName))
}
