// Package mountlab is the mount lab: private mount propagation, a tmpfs
// only a mount namespace sees, a shared versus private experiment, and
// pivot_root into a rootfs with the old root detached.
package mountlab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/checker/probe"
	"github.com/lab-edu/lab/kernel/mount"
	"github.com/lab-edu/lab/kernel/procfs"
	"github.com/lab-edu/lab/kernel/rootfs"
	"github.com/lab-edu/lab/steps"
)

// ID is the lab's ID and the name of its workspace directory.
const ID = "mount"

// Steps are the lab's steps, in order.
var Steps = []steps.Step{Private, Hidden, Propagation, Pivot}

// The directories of the workspace the steps use.
const (
	privateDir = "private" // a private mount point
	sharedDir  = "shared"  // a shared mount point
	hiddenDir  = "hidden"  // where a tmpfs only a namespace sees goes
	innerDir   = "inner"   // below shared/ and private/, for the experiment
	rootfsName = "rootfs"  // the busybox rootfs to pivot into
)

func workOf(h checker.Host) string { return filepath.Join(h.Workspace(), ID) }

// sleeper is the long-lived command left running in a namespace.
var sleeper = []string{"/bin/sleep", "1000000"}

// Reset kills every process that holds the workspace (by property: root,
// or a mount only its namespace has) and unmounts everything below it.
func Reset(ctx context.Context, env *steps.Env) error { return rootfs.Vacate(env.Dir) }

// removeDirs removes the empty directories a step made; a directory the
// learner filled stays.
func removeDirs(dirs ...string) {
	for _, d := range dirs {
		_ = os.Remove(d)
	}
}

// hostMounts is the checker's own mount table: the host's namespace.
func hostMounts(h checker.Host) ([]procfs.Mount, error) { return probe.Mounts(h.FS(), "self") }

// othersWith returns processes in another mount namespace than the
// checker's, each with its mount table, for which has is true.
func othersWith(h checker.Host, has func([]procfs.Mount) bool) ([]probe.Process, [][]procfs.Mount, error) {
	procs, err := probe.InOtherMntNS(h.FS())
	if err != nil {
		return nil, nil, err
	}
	var out []probe.Process
	var tables [][]procfs.Mount
	seen := map[string]bool{}
	for _, p := range procs {
		if seen[p.MntNS] {
			continue // one process per namespace is enough
		}
		m, err := probe.MountsOf(h.FS(), p)
		if err != nil || !has(m) {
			continue
		}
		seen[p.MntNS] = true
		out = append(out, p)
		tables = append(tables, m)
	}
	return out, tables, nil
}

// startInNamespace starts sleeper in a new mount namespace after mounts,
// detached, and waits until its namespace has the last mount.
func startInNamespace(ctx context.Context, env *steps.Env, keep bool, mounts ...mount.Mount) error {
	cmd, err := mount.Namespace{KeepPropagation: keep, Mounts: mounts, Argv: sleeper}.Command()
	if err != nil {
		return err
	}
	pid, err := rootfs.StartDetached(cmd)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Log, "started PID %d in a new mount namespace\n", pid)
	last := mounts[len(mounts)-1].Target
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if table, err := probe.Mounts(env.Host.FS(), fmt.Sprint(pid)); err == nil {
			if _, ok := probe.MountedAt(table, last); ok {
				if exe, _ := procfs.Exe(env.Host.FS(), pid); exe != "" && filepath.Base(exe) != "exe" {
					return nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	return errors.New("mount: the namespace process did not get its mounts in time")
}
