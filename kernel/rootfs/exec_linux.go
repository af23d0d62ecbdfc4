package rootfs

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lab-edu/lab/kernel/reexec"
)

// Names of the re-executed entries this package registers.
const (
	entryChroot = "rootfs-chroot"
	entryPivot  = "rootfs-pivot"
	entryEscape = "rootfs-escape"
)

func init() {
	reexec.Register(entryChroot, chrootMain)
	reexec.Register(entryPivot, pivotMain)
	reexec.Register(entryEscape, escapeMain)
}

// Env is the environment of a command run inside a rootfs: a PATH that
// makes sense there, nothing inherited from the caller.
var Env = []string{"PATH=/bin:/sbin:/usr/bin:/usr/sbin", "HOME=/root", "TERM=dumb"}

// Command returns an unstarted command that runs argv inside root: a child
// of this binary that chroots into root, then execs argv[0], which the
// kernel resolves inside root. It never looks anything up in the caller's
// $PATH.
//
// Equivalent to: chroot ROOT ARGV...
func Command(root string, argv ...string) *exec.Cmd {
	cmd := reexec.Command(entryChroot, append([]string{root}, argv...)...)
	cmd.Env = Env
	return cmd
}

// PivotCommand returns an unstarted command that runs argv in a new mount
// namespace whose root is root, with the old root detached (PivotRoot).
// The namespace is created by clone(2) itself (CLONE_NEWNS in
// SysProcAttr.Cloneflags), so the child is in it from its first
// instruction, every thread of it.
//
// Equivalent to: unshare -m sh -c 'mount --bind ROOT ROOT; cd ROOT;
// pivot_root . old_root; exec chroot . sh -c "umount -l /old_root; exec ARGV"'
func PivotCommand(root string, argv ...string) *exec.Cmd {
	cmd := reexec.Command(entryPivot, append([]string{root}, argv...)...)
	cmd.Env = Env
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNS}
	return cmd
}

// StartDetached starts cmd so that it outlives the caller: in its own
// session (setsid, so a terminal hang-up or the caller's death does not
// reach it), with stdin, stdout and stderr on /dev/null (nobody waits to
// read them), and not waited on. It returns the child's PID.
func StartDetached(cmd *exec.Cmd) (int, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setsid = true
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return 0, err
	}
	defer null.Close()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = null, null, null
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start %s: %w", cmd.Args[0], err)
	}
	pid := cmd.Process.Pid
	// Reap it in the background if it ends while we still run, so it does
	// not stay a zombie; when we exit first, init adopts it.
	go func() { _ = cmd.Wait() }()
	return pid, nil
}

// Output runs cmd, bounded by ctx and by a 10-second limit, and returns
// what it wrote. A child that leaves a background process holding its
// stdout does not block it: the wait for output ends a second after the
// child exits.
func Output(ctx context.Context, cmd *exec.Cmd) (stdout, stderr []byte, err error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("start %s: %w", cmd.Args[0], err)
	}
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			_ = cmd.Process.Kill()
		case <-done:
		}
	}()
	err = cmd.Wait()
	close(done)
	if ctx.Err() != nil {
		err = fmt.Errorf("%s: %w", cmd.Args[0], ctx.Err())
	}
	return out.Bytes(), errOut.Bytes(), err
}

func chrootMain() {
	if len(os.Args) < 3 {
		fail(2, "usage: %s ROOT CMD [ARG...]", entryChroot)
	}
	root, argv := os.Args[1], os.Args[2:]
	if err := Chroot(root); err != nil {
		fail(125, "%v", err)
	}
	execve(argv)
}

func pivotMain() {
	if len(os.Args) < 3 {
		fail(2, "usage: %s ROOT CMD [ARG...]", entryPivot)
	}
	root, argv := os.Args[1], os.Args[2:]
	if err := PivotRoot(root); err != nil {
		fail(125, "%v", err)
	}
	execve(argv)
}

// execve replaces this process with argv; the kernel resolves argv[0] from
// the current root. Exit code 127 is the shell's "command not found".
func execve(argv []string) {
	err := unix.Exec(argv[0], argv, os.Environ())
	fail(127, "exec %s: %v", argv[0], err)
}

func fail(code int, format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(code)
}
