package mountlab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/checker/probe"
	"github.com/lab-edu/lab/kernel/mount"
	"github.com/lab-edu/lab/kernel/procfs"
	"github.com/lab-edu/lab/kernel/rootfs"
	"github.com/lab-edu/lab/steps"
)

// Hidden: a tmpfs visible inside a mount namespace and invisible on the
// host.
var Hidden = steps.Step{
	ID:    "mount/hidden",
	Title: "Mount a tmpfs only a mount namespace sees",
	Setup: func(ctx context.Context, env *steps.Env) error {
		return os.MkdirAll(filepath.Join(env.Dir, hiddenDir), 0o755)
	},
	Check: checkHidden,
	Solve: func(ctx context.Context, env *steps.Env) error {
		dir := filepath.Join(env.Dir, hiddenDir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		return startInNamespace(ctx, env, false, mount.Mount{Source: "lab-hidden", Target: dir, FSType: "tmpfs", Data: "size=1m"})
	},
	Cleanup: func(ctx context.Context, env *steps.Env) error {
		if err := rootfs.Vacate(env.Dir); err != nil {
			return err
		}
		removeDirs(filepath.Join(env.Dir, hiddenDir))
		return nil
	},
}

// checkHidden reads both mount tables: the host's must have nothing at
// hidden/, and some process in another mount namespace must have a tmpfs
// there.
func checkHidden(ctx context.Context, h checker.Host) checker.Result {
	const name = "a tmpfs only a mount namespace sees"
	dir := filepath.Join(workOf(h), hiddenDir)
	host, err := hostMounts(h)
	if err != nil {
		return checker.Errored(name, err)
	}
	if m, ok := probe.MountedAt(host, dir); ok {
		return checker.Failed(name,
			fmt.Sprintf("a %s is mounted at %s in the host's mount namespace (%s): every process on the host sees it", m.FSType, dir, probe.Describe(m)),
			"umount "+dir+", then mount the tmpfs from inside a new mount namespace: unshare -m ...")
	}
	procs, tables, err := othersWith(h, func(ms []procfs.Mount) bool {
		m, ok := probe.MountedAt(ms, dir)
		return ok && m.FSType == "tmpfs"
	})
	if err != nil {
		return checker.Errored(name, err)
	}
	if len(procs) == 0 {
		return checker.Mismatch(name, "a process in a new mount namespace with a tmpfs at "+dir, "none (and nothing mounted there on the host)",
			"setsid unshare -m sh -c 'mount -t tmpfs lab-hidden "+dir+" && exec sleep 1000000' </dev/null >/dev/null 2>&1 &")
	}
	m, _ := probe.MountedAt(tables[0], dir)
	return checker.Passed(name,
		fmt.Sprintf("%s in %s has %s", procs[0], procs[0].MntNS, probe.Describe(m)),
		"the host's /proc/self/mountinfo has nothing at "+dir,
		"namespaces with it: "+strings.Join(nsList(procs), ", "))
}

func nsList(procs []probe.Process) []string {
	var out []string
	for _, p := range procs {
		out = append(out, p.MntNS)
	}
	return out
}
