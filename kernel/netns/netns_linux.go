package netns

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"

	"github.com/moby/sys/mountinfo"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// CreateNamed creates a new network namespace and keeps it alive with a
// bind mount at /run/netns/NAME.
//
// Equivalent to: `ip netns add NAME`. Like iproute2 it first makes
// /run/netns a shared mount point (bind-mounting it onto itself if it is not
// a mount point yet), so a namespace added later also appears in other mount
// namespaces that received a copy of /run/netns.
func CreateNamed(name string) error {
	if err := CheckName(name); err != nil {
		return err
	}
	if err := shareDir(); err != nil {
		return err
	}
	path := Path(name)
	// The mount target must exist. O_EXCL makes a second `add` fail as
	// iproute2's does ("File exists").
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("create netns %s: %w", name, &os.PathError{Op: "create", Path: path, Err: err})
	}
	unix.Close(fd)
	err = onThrowawayThread(func() error {
		// A new namespace for this thread only; then pin it with a bind
		// mount of the thread's own namespace file.
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			return &os.PathError{Op: "unshare", Path: "CLONE_NEWNET", Err: err}
		}
		self := "/proc/thread-self/ns/net"
		if err := unix.Mount(self, path, "none", unix.MS_BIND, ""); err != nil {
			return &os.PathError{Op: "bind mount " + self + " on", Path: path, Err: err}
		}
		return nil
	})
	if err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("create netns %s: %w", name, err)
	}
	return nil
}

// shareDir makes /run/netns a mount point with shared propagation, as
// iproute2's netns_add does: try MS_SHARED; if the directory is not a mount
// point yet (EINVAL), bind-mount it onto itself and try again.
func shareDir() error {
	if err := os.MkdirAll(Dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", Dir, err)
	}
	for made := false; ; made = true {
		err := unix.Mount("", Dir, "none", unix.MS_SHARED|unix.MS_REC, "")
		if err == nil {
			return nil
		}
		if !errors.Is(err, unix.EINVAL) || made {
			return &os.PathError{Op: "make shared", Path: Dir, Err: err}
		}
		if err := unix.Mount(Dir, Dir, "none", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return &os.PathError{Op: "bind mount", Path: Dir, Err: err}
		}
	}
}

// DeleteNamed removes the bind mount and the file of a named namespace.
// The namespace itself disappears when nothing else refers to it (no
// process inside, no open file). A missing namespace is not an error.
//
// Equivalent to: `ip netns delete NAME`.
func DeleteNamed(name string) error {
	if err := CheckName(name); err != nil {
		return err
	}
	path := Path(name)
	// MNT_DETACH: a process may still have the file open; the kernel
	// finishes the unmount when it is closed. EINVAL means "not mounted"
	// (for example a plain file someone created by hand).
	if err := unix.Unmount(path, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("delete netns %s: %w", name, &os.PathError{Op: "unmount", Path: path, Err: err})
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("delete netns %s: %w", name, err)
	}
	return nil
}

// ReleaseDir undoes the /run/netns mount point that CreateNamed made, when
// no named namespace is left in it, so a host where `ip netns` was never
// used looks untouched again. iproute2 leaves the mount in place; this is
// for lab resets.
func ReleaseDir() error {
	entries, err := os.ReadDir(Dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil || len(entries) > 0 {
		return err
	}
	if err := unix.Unmount(Dir, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
		return &os.PathError{Op: "unmount", Path: Dir, Err: err}
	}
	return nil
}

// List returns the names in /run/netns, like `ip netns list`. A plain
// file there is listed too; IsNamed tells them apart.
func List() ([]string, error) {
	entries, err := os.ReadDir(Dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names, nil
}

// nsfsMagic is NSFS_MAGIC from linux/magic.h: statfs(2) on a namespace
// file reports it.
const nsfsMagic = 0x6e736673

// IsNsfs reports whether path is a namespace file (an nsfs inode, such as
// a bind mount of /proc/PID/ns/net) rather than a regular file.
func IsNsfs(path string) (bool, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return false, &os.PathError{Op: "statfs", Path: path, Err: err}
	}
	return st.Type == nsfsMagic, nil
}

// IsNetns reports whether path is a network namespace file: nsfs, and the
// NS_GET_NSTYPE ioctl answers CLONE_NEWNET (a bind mount of a uts
// namespace is nsfs too).
func IsNetns(path string) (bool, error) {
	ok, err := IsNsfs(path)
	if err != nil || !ok {
		return false, err
	}
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	kind, err := unix.IoctlRetInt(fd, unix.NS_GET_NSTYPE)
	if err != nil {
		return false, &os.PathError{Op: "ioctl NS_GET_NSTYPE", Path: path, Err: err}
	}
	return kind == unix.CLONE_NEWNET, nil
}

// Inode returns the namespace's inode number, its identity: the number
// `ls -l /proc/PID/ns/net` shows as net:[NUMBER].
func Inode(path string) (uint64, error) {
	id, err := identity(path)
	return id.ino, err
}

// nsID is what makes a namespace file unique: the nsfs device and inode.
type nsID struct{ dev, ino uint64 }

func identity(path string) (nsID, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return nsID{}, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	return nsID{dev: uint64(st.Dev), ino: st.Ino}, nil
}

// Open opens the named namespace's file; the descriptor keeps the
// namespace alive while it is open.
func Open(name string) (*os.File, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	return os.OpenFile(Path(name), os.O_RDONLY, 0)
}

// NewAnonymous creates a network namespace that has no name: it lives
// exactly as long as the returned file is open (and no process is inside).
// Checks use it for their own short-lived networks, which vanish with the
// process even if it crashes.
func NewAnonymous() (*os.File, error) {
	var f *os.File
	err := onThrowawayThread(func() error {
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			return &os.PathError{Op: "unshare", Path: "CLONE_NEWNET", Err: err}
		}
		fd, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return &os.PathError{Op: "open", Path: "/proc/thread-self/ns/net", Err: err}
		}
		f = os.NewFile(uintptr(fd), "anonymous netns")
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("create anonymous netns: %w", err)
	}
	return f, nil
}

// Do runs fn on an OS thread that has entered the named network namespace.
// The thread stays locked and is never unlocked, so Go discards it when the
// goroutine ends instead of reusing a thread left in the wrong namespace.
//
// Equivalent to: `ip netns exec NAME ...` for Go code.
// Preconditions: fn must not start goroutines that depend on the namespace.
func Do(name string, fn func() error) error {
	f, err := Open(name)
	if err != nil {
		return fmt.Errorf("enter netns %s: %w", name, err)
	}
	defer f.Close()
	return DoFile(f, fn)
}

// DoFile is Do for a namespace given by an open namespace file.
// Preconditions: fn must not start goroutines that depend on the namespace.
func DoFile(ns *os.File, fn func() error) error {
	return onThrowawayThread(func() error {
		if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("enter netns %s: %w", ns.Name(), err)
		}
		return fn()
	})
}

// onThrowawayThread runs fn on a fresh goroutine locked to its OS thread
// and never unlocked: when the goroutine returns, the Go runtime terminates
// the thread rather than reuse it with a changed namespace.
//
// One thread cannot be thrown away: the main thread, which is the process
// for /proc/self and for the kernel. Go parks it instead ("wedges" it), and
// it would stay in the namespace, so /proc/self/ns/net would lie ever
// after. If the goroutine lands on the main thread, it keeps that thread
// busy (locked, untouched) while a nested goroutine, which then cannot land
// there, does the work.
func onThrowawayThread(fn func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // intentionally no UnlockOSThread on the worker
		if unix.Gettid() == unix.Getpid() {
			err := onThrowawayThread(fn)
			runtime.UnlockOSThread() // the main thread never left the namespace
			done <- err
			return
		}
		done <- fn()
	}()
	return <-done
}

// Handle opens a netlink handle whose sockets live in the named namespace
// ("" is the namespace of the caller, the host's for lab). A socket stays
// bound to the namespace it was created in, so every request through the
// handle reads that namespace, from any thread: only the socket creation
// runs inside Do. The handle speaks rtnetlink (links, addresses, routes)
// and sock_diag (sockets). Close it when done.
func Handle(name string) (*netlink.Handle, error) {
	if name == "" {
		return netlink.NewHandle(unix.NETLINK_ROUTE, unix.NETLINK_INET_DIAG)
	}
	f, err := Open(name)
	if err != nil {
		return nil, fmt.Errorf("open netns %s: %w", name, err)
	}
	defer f.Close()
	return HandleFile(f)
}

// HandleFile is Handle for a namespace given by an open namespace file.
func HandleFile(ns *os.File) (*netlink.Handle, error) {
	var h *netlink.Handle
	err := DoFile(ns, func() error {
		var err error
		h, err = netlink.NewHandle(unix.NETLINK_ROUTE, unix.NETLINK_INET_DIAG)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("netlink handle in netns %s: %w", ns.Name(), err)
	}
	return h, nil
}

// Pids returns the processes whose network namespace is the named one,
// found by comparing the inode of each /proc/PID/ns/net with the
// namespace's. This is how lab finds a server a learner started with
// `ip netns exec NAME ...`, without a PID file.
func Pids(name string) ([]int, error) {
	want, err := identity(Path(name))
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if id, err := identity("/proc/" + e.Name() + "/ns/net"); err == nil && id == want {
			pids = append(pids, pid)
		}
	}
	slices.Sort(pids)
	return pids, nil
}

// KillAll sends SIGKILL to every process in the named namespace, so that
// deleting its name really frees it. A missing namespace is not an error.
//
// Equivalent to: `ip netns pids NAME | xargs kill -9`.
func KillAll(name string) error {
	pids, err := Pids(name)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("list processes in netns %s: %w", name, err)
	}
	for _, pid := range pids {
		if pid == os.Getpid() {
			continue
		}
		if err := unix.Kill(pid, unix.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("kill %d in netns %s: %w", pid, name, err)
		}
	}
	return nil
}

// Start starts cmd with its network namespace set to the named one and
// does not wait for it. The fork happens on a thread inside the namespace,
// and a child inherits its parent thread's namespaces, so only the child
// (and not this process) ends up there.
//
// Equivalent to: `ip netns exec NAME CMD... &`.
// Preconditions: cmd's stdio are nil or *os.File, so Start starts no
// copying goroutines.
func Start(name string, cmd *exec.Cmd) error {
	return Do(name, cmd.Start)
}

// DirIsMount reports whether /run/netns is a mount point, which it is
// once `ip netns add` (or CreateNamed) has run since boot.
func DirIsMount() (bool, error) {
	ok, err := mountinfo.Mounted(Dir)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	return ok, err
}

// Lock takes an exclusive flock(2) on path (created if needed) and returns
// the function that releases it. Processes that build the same throwaway
// network (the same addresses on a new link) take turns with it; the
// kernel releases the lock when the process dies, so a crash never leaves
// it held.
func Lock(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, &os.PathError{Op: "flock", Path: path, Err: err}
	}
	return func() { f.Close() }, nil
}
