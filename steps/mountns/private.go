package mountlab

import (
	"context"
	"os"
	"path/filepath"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/checker/probe"
	"github.com/lab-edu/lab/kernel/mount"
	"github.com/lab-edu/lab/kernel/rootfs"
	"github.com/lab-edu/lab/steps"
)

// Private: a mount point with private propagation.
var Private = steps.Step{
	ID:    "mount/private",
	Title: "Make a private mount point",
	Setup: func(ctx context.Context, env *steps.Env) error {
		return os.MkdirAll(filepath.Join(env.Dir, privateDir), 0o755)
	},
	Check: func(ctx context.Context, h checker.Host) checker.Result {
		return mountWithPropagation(h, filepath.Join(workOf(h), privateDir), "private")
	},
	Solve: func(ctx context.Context, env *steps.Env) error {
		return makeMountPoint(filepath.Join(env.Dir, privateDir), mount.Private)
	},
	Cleanup: func(ctx context.Context, env *steps.Env) error {
		if err := rootfs.Vacate(env.Dir); err != nil {
			return err
		}
		removeDirs(filepath.Join(env.Dir, privateDir))
		return nil
	},
}

// makeMountPoint binds dir onto itself (if it is not a mount point yet)
// and sets its propagation.
func makeMountPoint(dir string, p mount.Propagation) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if ok, err := mount.IsMountpoint(dir); err != nil {
		return err
	} else if !ok {
		if err := mount.Bind(dir, dir); err != nil {
			return err
		}
	}
	return mount.SetPropagation(dir, p, false)
}

// mountWithPropagation checks, in the host's mount table, that dir is a
// mount point with propagation want ("private" or "shared").
func mountWithPropagation(h checker.Host, dir, want string) checker.Result {
	name := dir + " is a " + want + " mount point"
	mounts, err := hostMounts(h)
	if err != nil {
		return checker.Errored(name, err)
	}
	m, ok := probe.MountedAt(mounts, dir)
	if !ok {
		return checker.Mismatch(name, "a mount point at "+dir, "a plain directory (no mount there in /proc/self/mountinfo)",
			"make it a mount point by binding it onto itself: mount --bind "+dir+" "+dir)
	}
	if got := m.Propagation(); got != want {
		return checker.Mismatch(name, "propagation "+want, got+" ("+probe.Describe(m)+")",
			"mount --make-"+want+" "+dir)
	}
	return checker.Passed(name, probe.Describe(m))
}
