package mountlab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/checker/probe"
	"github.com/lab-edu/lab/kernel/mount"
	"github.com/lab-edu/lab/kernel/procfs"
	"github.com/lab-edu/lab/kernel/rootfs"
	"github.com/lab-edu/lab/steps"
)

// Propagation: the shared versus private experiment. In a namespace that
// kept the host's propagation, a tmpfs mounted under the shared mount
// appears on the host too; one mounted under the private mount does not.
var Propagation = steps.Step{
	ID:     "mount/propagation",
	Title:  "Shared versus private: watch a mount propagate",
	Points: 20,
	Setup: func(ctx context.Context, env *steps.Env) error {
		if err := Private.Solve(ctx, env); err != nil {
			return err
		}
		for _, d := range []string{sharedDir, filepath.Join(privateDir, innerDir)} {
			if err := os.MkdirAll(filepath.Join(env.Dir, d), 0o755); err != nil {
				return err
			}
		}
		return nil
	},
	Check: func(ctx context.Context, h checker.Host) checker.Result {
		work := workOf(h)
		return checker.Weighted("shared versus private",
			checker.Part{Weight: 1, Check: func(ctx context.Context, h checker.Host) checker.Result {
				return mountWithPropagation(h, filepath.Join(work, sharedDir), "shared")
			}},
			checker.Part{Weight: 1, Check: func(ctx context.Context, h checker.Host) checker.Result {
				return mountWithPropagation(h, filepath.Join(work, privateDir), "private")
			}},
			checker.Part{Weight: 3, Check: checkExperiment},
		)(ctx, h)
	},
	Solve: func(ctx context.Context, env *steps.Env) error {
		shared, private := filepath.Join(env.Dir, sharedDir), filepath.Join(env.Dir, privateDir)
		if err := makeMountPoint(shared, mount.Shared); err != nil {
			return err
		}
		if err := makeMountPoint(private, mount.Private); err != nil {
			return err
		}
		// The inner directories live in the bind mounts, so make them now.
		for _, d := range []string{shared, private} {
			if err := os.MkdirAll(filepath.Join(d, innerDir), 0o755); err != nil {
				return err
			}
		}
		return startInNamespace(ctx, env, true,
			mount.Mount{Source: "lab-shared", Target: filepath.Join(shared, innerDir), FSType: "tmpfs", Data: "size=1m"},
			mount.Mount{Source: "lab-private", Target: filepath.Join(private, innerDir), FSType: "tmpfs", Data: "size=1m"},
		)
	},
	Cleanup: func(ctx context.Context, env *steps.Env) error {
		if err := rootfs.Vacate(env.Dir); err != nil {
			return err
		}
		removeDirs(filepath.Join(env.Dir, sharedDir, innerDir), filepath.Join(env.Dir, sharedDir),
			filepath.Join(env.Dir, privateDir, innerDir))
		return nil
	},
}

// checkExperiment finds a process in another mount namespace with a tmpfs
// at both shared/inner and private/inner, then looks at the host: the
// shared one must be there and be the same file system (same device
// numbers: it propagated, it was not mounted twice), the private one must
// not.
func checkExperiment(ctx context.Context, h checker.Host) checker.Result {
	const name = "a mount propagates from under the shared mount only"
	work := workOf(h)
	sharedInner := filepath.Join(work, sharedDir, innerDir)
	privateInner := filepath.Join(work, privateDir, innerDir)
	procs, tables, err := othersWith(h, func(ms []procfs.Mount) bool {
		a, okA := probe.MountedAt(ms, sharedInner)
		b, okB := probe.MountedAt(ms, privateInner)
		return okA && okB && a.FSType == "tmpfs" && b.FSType == "tmpfs"
	})
	if err != nil {
		return checker.Errored(name, err)
	}
	if len(procs) == 0 {
		return checker.Mismatch(name, "a process in a new mount namespace with a tmpfs at "+sharedInner+" and at "+privateInner, "none",
			"unshare -m --propagation unchanged, then mount -t tmpfs at both places inside it, and keep a process running there")
	}
	host, err := hostMounts(h)
	if err != nil {
		return checker.Errored(name, err)
	}
	if m, ok := probe.MountedAt(host, privateInner); ok {
		return checker.Failed(name,
			fmt.Sprintf("the host has %s: a mount under a private mount never propagates, so this one was mounted on the host itself", probe.Describe(m)),
			"umount "+privateInner+" on the host; mount it only inside the namespace")
	}
	var last checker.Result
	for i, p := range procs {
		theirs, _ := probe.MountedAt(tables[i], sharedInner)
		ours, ok := probe.MountedAt(host, sharedInner)
		switch {
		case !ok:
			last = checker.Failed(name,
				fmt.Sprintf("%s has a tmpfs at %s but the host has nothing there: it did not propagate", p, sharedInner),
				"the namespace must be made after "+filepath.Dir(sharedInner)+" is shared, with unshare --propagation unchanged (the default, private, cuts every link to the host)")
		case ours.Major != theirs.Major || ours.Minor != theirs.Minor:
			last = checker.Failed(name,
				fmt.Sprintf("the host's tmpfs at %s (device %d:%d) is not the one %s mounted (device %d:%d): it was mounted twice, not propagated", sharedInner, ours.Major, ours.Minor, p, theirs.Major, theirs.Minor),
				"umount "+sharedInner+" on the host and let propagation bring the namespace's mount")
		default:
			return checker.Passed(name,
				fmt.Sprintf("%s mounted %s and %s", p, probe.Describe(theirs), sharedInner),
				fmt.Sprintf("the host has the same tmpfs (device %d:%d) at %s: it propagated", ours.Major, ours.Minor, sharedInner),
				"the host has nothing at "+privateInner)
		}
	}
	return last
}
