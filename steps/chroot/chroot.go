// Package chrootlab is the chroot lab: build a busybox root file system,
// run a process inside it, see what chroot does not isolate (/proc shows
// the host's processes), break out of a chroot, and build a pivot_root
// jail that holds.
package chrootlab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/kernel/rootfs"
	"github.com/lab-edu/lab/steps"
)

// ID is the lab's ID and the name of its workspace directory.
const ID = "chroot"

// Steps are the lab's steps, in order.
var Steps = []steps.Step{Rootfs, Process, Proc, Escape, Quiz}

// rootfsDir is where the learner builds the root file system.
func rootfsDir(work string) string { return filepath.Join(work, "rootfs") }

// workOf is this lab's workspace as a check sees it.
func workOf(h checker.Host) string { return filepath.Join(h.Workspace(), ID) }

// teardown kills every process that uses the workspace (chrooted into the
// rootfs, or in a jail that pivoted into it), then unmounts everything
// mounted below it, deepest first: rootfs.Vacate finds both by property,
// so it works after a crash and whoever made them.
func teardown(dir string) error { return rootfs.Vacate(dir) }

// Reset removes what the steps' cleanups do not: leftovers of `lab escape`.
func Reset(ctx context.Context, env *steps.Env) error {
	if err := teardown(env.Dir); err != nil {
		return err
	}
	matches, _ := filepath.Glob(filepath.Join(env.Dir, "escape-demo-*"))
	for _, m := range matches {
		if err := os.RemoveAll(m); err != nil {
			return fmt.Errorf("remove %s: %w", m, err)
		}
	}
	return nil
}
