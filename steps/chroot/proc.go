package chrootlab

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/checker/probe"
	"github.com/lab-edu/lab/kernel/rootfs"
	"github.com/lab-edu/lab/steps"
)

// Proc: /proc mounted inside the rootfs shows the host's processes.
var Proc = steps.Step{
	ID:    "chroot/proc",
	Title: "See what chroot does not isolate: /proc",
	Setup: Rootfs.Solve,
	Check: checker.All("the chroot sees the host's processes", procMounted, seesHostProcesses),
	Solve: func(ctx context.Context, env *steps.Env) error {
		return rootfs.MountProc(rootfsDir(env.Dir))
	},
	Cleanup: func(ctx context.Context, env *steps.Env) error { return teardown(env.Dir) },
}

// procMounted reads the checker's mountinfo (the host's namespace, where a
// plain chroot lives) for a proc file system at rootfs/proc.
func procMounted(ctx context.Context, h checker.Host) checker.Result {
	const name = "proc mounted in the rootfs"
	target := filepath.Join(rootfsDir(workOf(h)), "proc")
	mounts, err := probe.Mounts(h.FS(), "self")
	if err != nil {
		return checker.Errored(name, err)
	}
	m, ok := probe.MountedAt(mounts, target)
	switch {
	case !ok:
		return checker.Mismatch(name, "a proc file system mounted at "+target, "no mount there",
			"mount -t proc proc "+target)
	case m.FSType != "proc":
		return checker.Mismatch(name, "proc at "+target, m.FSType+" ("+probe.Describe(m)+")", "umount "+target+", then mount -t proc proc "+target)
	}
	return checker.Passed(name, probe.Describe(m))
}

// seesHostProcesses lists /proc chrooted into the rootfs and expects to
// find PID 1 and the checker itself: a chroot shares the host's PID
// namespace, so its /proc lists every process of the machine. The shell's
// glob reads the directory only; `ls /proc` would also stat every entry
// and fail on a process that exits in between (it did in the test VM).
func seesHostProcesses(ctx context.Context, h checker.Host) checker.Result {
	const name = "host processes visible inside the chroot"
	dir := rootfsDir(workOf(h))
	self, err := fs.ReadLink(h.FS(), "proc/self")
	if err != nil {
		return checker.Errored(name, err)
	}
	out, errOut, err := rootfs.Output(ctx, rootfs.Command(dir, "/bin/sh", "-c", "cd /proc && echo [0-9]*"))
	if err != nil {
		return checker.Failed(name, fmt.Sprintf("listing /proc inside the chroot failed: %v: %s", err, strings.TrimSpace(string(errOut))),
			"check step chroot/rootfs first: /bin/sh must work inside "+dir)
	}
	var pids []string
	for _, f := range strings.Fields(string(out)) {
		if _, err := strconv.Atoi(f); err == nil {
			pids = append(pids, f)
		}
	}
	// The child started after we read proc/self, so the checker's own PID
	// (an ancestor of the lister) is certainly alive while it lists.
	for _, want := range []string{"1", self} {
		if !slices.Contains(pids, want) {
			return checker.Failed(name, fmt.Sprintf("/proc inside the chroot lists %d processes but not PID %s", len(pids), want),
				"mount the host's proc (mount -t proc proc "+dir+"/proc), not one of another PID namespace")
		}
	}
	return checker.Passed(name, fmt.Sprintf("/proc inside the chroot lists %d processes, including PID 1 and the checker (PID %s)", len(pids), self))
}
