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

// Escape: a jail that resists the chroot escape: a process in a new mount
// namespace that pivoted into the rootfs and detached the old root.
var Escape = steps.Step{
	ID:     "chroot/escape",
	Title:  "Break out of a chroot, then build a jail that holds",
	Points: 20,
	Setup:  Rootfs.Solve,
	Check:  CheckJail(func(h checker.Host) string { return rootfsDir(workOf(h)) }, true),
	Solve: func(ctx context.Context, env *steps.Env) error {
		dir := rootfsDir(env.Dir)
		pid, err := rootfs.StartDetached(rootfs.PivotCommand(dir, "/bin/sleep", "1000000"))
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Log, "started PID %d in a new mount namespace, pivoted into %s\n", pid, dir)
		return waitFor(ctx, func() bool { return hasRoot(env.Host, pid, dir) })
	},
	Cleanup: func(ctx context.Context, env *steps.Env) error { return teardown(env.Dir) },
}

// CheckJail finds a process that pivoted into the rootfs (in a mount
// namespace other than the checker's, its root mount is the rootfs, and
// the host's root file system is mounted nowhere in it); with
// tryEscape, it then runs the chroot escape from inside that process's
// mount namespace and root and expects it not to reach the host's root.
func CheckJail(rootfsOf func(checker.Host) string, tryEscape bool) checker.Check {
	return func(ctx context.Context, h checker.Host) checker.Result {
		const name = "a pivot_root jail"
		dir := rootfsOf(h)
		fsys := h.FS()
		self, err := probe.SelfMntNS(fsys)
		if err != nil {
			return checker.Errored(name, err)
		}
		rooted, err := probe.WithRoot(fsys, dir)
		if err != nil {
			return checker.Errored(name, err)
		}
		host, err := probe.Mounts(fsys, "self")
		if err != nil {
			return checker.Errored(name, err)
		}
		var chrootOnly []string
		first := checker.Result{}
		for _, p := range rooted {
			if p.MntNS == self {
				chrootOnly = append(chrootOnly, p.String())
				continue
			}
			theirs, err := probe.MountsOf(fsys, p)
			if err != nil {
				continue // it ended meanwhile
			}
			jail := probe.PivotedInto(theirs, host, p, dir)
			if !jail.OK {
				if first.Reason == "" {
					first = checker.Failed(name, jail.Reason, jail.Hint)
				}
				continue
			}
			if !tryEscape {
				return checker.Passed(name, p.String()+" is in its own mount namespace with "+dir+" as its root mount and no host root")
			}
			res, err := rootfs.EscapeFromProcess(ctx, p.PID)
			if err != nil {
				return checker.Errored(name, err)
			}
			if res.Escaped {
				if first.Reason == "" {
					first = checker.Failed(name, fmt.Sprintf("the chroot escape run inside %s reached the host's root (%s)", p, strings.Join(res.Entries, " ")),
						"the old root must be detached: umount -l /old_root inside the jail")
				}
				continue
			}
			return checker.Passed(name,
				p.String()+" is in its own mount namespace with "+dir+" as its root mount and no host root",
				"the chroot escape from inside it ended on its own root ("+strings.Join(res.Entries, " ")+"), not the host's")
		}
		if first.Reason != "" {
			return first
		}
		if len(chrootOnly) > 0 {
			return checker.Failed(name,
				strings.Join(chrootOnly, ", ")+" has "+dir+" as its root but shares the host's mount namespace: a plain chroot, which root escapes (see `sudo lab escape`)",
				"start the jail with unshare -m, bind "+dir+" onto itself, pivot_root . old_root, then umount -l /old_root")
		}
		return checker.Mismatch(name, "a process in a new mount namespace whose root mount is "+dir, "none",
			"unshare -m, mount --bind "+dir+" "+dir+", cd "+dir+", pivot_root . old_root, umount -l /old_root, then run a long-lived command")
	}
}
