package chrootlab

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/checker/probe"
	"github.com/lab-edu/lab/kernel/rootfs"
	"github.com/lab-edu/lab/steps"
)

// Rootfs: build a busybox root file system in the workspace.
var Rootfs = steps.Step{
	ID:    "chroot/rootfs",
	Title: "Build a busybox root filesystem",
	Check: checker.All("a working shell inside the rootfs", rootfsIsDir, shellIsExecutable, shellRuns),
	Solve: func(ctx context.Context, env *steps.Env) error {
		fmt.Fprintf(env.Log, "building a busybox rootfs in %s\n", rootfsDir(env.Dir))
		return rootfs.BuildBusybox(ctx, rootfsDir(env.Dir))
	},
	Cleanup: func(ctx context.Context, env *steps.Env) error {
		if err := teardown(env.Dir); err != nil {
			return err
		}
		return os.RemoveAll(rootfsDir(env.Dir))
	},
}

func rootfsIsDir(ctx context.Context, h checker.Host) checker.Result {
	const name = "rootfs directory"
	dir := rootfsDir(workOf(h))
	info, err := fs.Stat(h.FS(), probe.Rel(dir))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return checker.Mismatch(name, "a directory "+dir, "nothing there",
			"mkdir -p "+dir+"/bin, then copy the host's static busybox into it")
	case err != nil:
		return checker.Errored(name, err)
	case !info.IsDir():
		return checker.Mismatch(name, "a directory "+dir, "a "+info.Mode().Type().String()+" file", "remove it and mkdir -p "+dir)
	}
	return checker.Passed(name, dir+" is a directory")
}

// shellIsExecutable follows /bin/sh inside the rootfs as the kernel will
// for a process chrooted there, and says precisely what is wrong.
func shellIsExecutable(ctx context.Context, h checker.Host) checker.Result {
	const name = "/bin/sh inside the rootfs"
	dir := rootfsDir(workOf(h))
	res, err := probe.ResolveIn(h.FS(), dir, "/bin/sh")
	if err != nil {
		if len(res.Links) > 0 {
			return checker.Failed(name, "/bin/sh is a broken symlink: "+err.Error(),
				"links in a rootfs resolve inside it: /bin/sh -> /bin/busybox needs "+dir+"/bin/busybox")
		}
		return checker.Failed(name, "the rootfs has no shell: "+err.Error(),
			"cp /bin/busybox "+dir+"/bin/ then chroot "+dir+" /bin/busybox --install -s")
	}
	target := res.Path
	if len(res.Links) > 0 {
		target = fmt.Sprintf("%s (via %s)", res.Path, strings.Join(res.Links, ", "))
	}
	mode := res.Info.Mode()
	switch {
	case !mode.IsRegular():
		return checker.Failed(name, fmt.Sprintf("%s is a %s, not a program file", target, kind(mode)), "point /bin/sh at the busybox binary")
	case mode.Perm()&0o111 == 0:
		return checker.Mismatch(name, "an executable file", fmt.Sprintf("%s with mode %04o: no execute bit", target, mode.Perm()),
			"chmod +x "+path.Join(dir, res.Path))
	}
	interp, err := probe.Interpreter(h.FS(), probe.Rel(path.Join(dir, res.Path)))
	if err != nil {
		return checker.Failed(name, fmt.Sprintf("%s cannot be executed: %v", target, err), "copy the host's /bin/busybox (from busybox-static)")
	}
	if interp != "" {
		if _, err := probe.ResolveIn(h.FS(), dir, interp); err != nil {
			return checker.Failed(name,
				fmt.Sprintf("%s is dynamically linked and needs its loader %s, which is missing inside the rootfs", target, interp),
				"use the statically linked /bin/busybox of busybox-static, or copy the libraries ldd lists")
		}
	}
	return checker.Passed(name, "/bin/sh resolves to "+target+", executable")
}

func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeDevice != 0:
		return "device"
	}
	return "special file"
}

// shellRuns runs /bin/sh -c 'echo ok' chrooted into the rootfs through
// kernel/rootfs (a re-executed child of lab: chroot, then execve), never
// through a chroot binary from $PATH.
func shellRuns(ctx context.Context, h checker.Host) checker.Result {
	const name = "/bin/sh runs inside the rootfs"
	dir := rootfsDir(workOf(h))
	out, errOut, err := rootfs.Output(ctx, rootfs.Command(dir, "/bin/sh", "-c", "echo ok"))
	if err != nil {
		return checker.Failed(name, fmt.Sprintf("chroot %s /bin/sh -c 'echo ok' failed: %v: %s", dir, err, strings.TrimSpace(string(errOut))),
			"try it yourself: sudo chroot "+dir+" /bin/sh -c 'echo ok'")
	}
	if got := strings.TrimSpace(string(out)); got != "ok" {
		return checker.Mismatch(name, `"ok"`, fmt.Sprintf("%q", got), "/bin/sh inside the rootfs must be a real shell: busybox sh")
	}
	return checker.Passed(name, "chroot "+dir+" /bin/sh -c 'echo ok' printed ok")
}
