package rootfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lab-edu/lab/kernel/mount"
	"github.com/lab-edu/lab/kernel/procfs"
)

// Users lists the processes that still use dir, found by property rather
// than by a PID file, so it works after a crash and whoever started them:
//
//   - a process whose root directory is dir or a directory below it (a
//     chroot, or the root of a pivot_root jail), compared by device and
//     inode, which identify a directory in any mount namespace;
//   - a process in another mount namespace that holds a mount below dir
//     which this namespace does not have: a tmpfs mounted inside
//     `unshare -m`, the bind mount of a rootfs a jail pivoted into;
//   - a process in another mount namespace whose command line names dir
//     or a path below it: one that has not made its mounts yet, such as
//     `unshare -m sh -c 'mount ... DIR/x; ...'` caught right after its
//     clone(2) by a crash of whatever started it (on a slow machine this
//     moment lasts long enough for a reset to miss it otherwise).
//
// The calling process and PID 1 are never listed.
func Users(dir string) ([]int, error) {
	dir = filepath.Clean(dir)
	if !filepath.IsAbs(dir) || dir == "/" {
		return nil, fmt.Errorf("rootfs: refusing to look for users of %q: want an absolute directory other than /", dir)
	}
	host := os.DirFS("/")
	self := os.Getpid()
	selfNS, err := procfs.NsLink(host, self, "mnt")
	if err != nil {
		return nil, err
	}
	ours, err := mount.Mounts()
	if err != nil {
		return nil, err
	}
	dirs := dirIDs(dir, 3, ours)
	pids, err := procfs.Pids(host)
	if err != nil {
		return nil, err
	}
	var users []int
	for _, pid := range pids {
		if pid == self || pid == 1 {
			continue
		}
		if _, err := procfs.Exe(host, pid); err != nil {
			continue // a kernel thread, a zombie, or gone
		}
		if usesDir(host, pid, dir, dirs, selfNS, ours) {
			users = append(users, pid)
		}
	}
	return users, nil
}

func usesDir(host fs.FS, pid int, dir string, dirs map[string]bool, selfNS string, ours []procfs.Mount) bool {
	proc := "/proc/" + strconv.Itoa(pid)
	if id, err := fileID(proc + "/root"); err == nil && dirs[id] {
		return true
	}
	ns, err := procfs.NsLink(host, pid, "mnt")
	if err != nil {
		return false
	}
	if ns == selfNS {
		root, err := procfs.Root(host, pid)
		return err == nil && root != "/" && mount.Under(root, dir)
	}
	theirs, err := procfs.ReadMountInfo(host, strconv.Itoa(pid))
	if err != nil {
		return false
	}
	for _, m := range theirs {
		if holdsUnder(m, dir, ours) {
			return true
		}
	}
	return namesDir(host, pid, dir)
}

// namesDir reports whether an argument of pid's command line
// (/proc/PID/cmdline, NUL-separated) contains dir itself or a path below
// it.
func namesDir(host fs.FS, pid int, dir string) bool {
	b, err := fs.ReadFile(host, "proc/"+strconv.Itoa(pid)+"/cmdline")
	if err != nil {
		return false
	}
	for _, arg := range strings.Split(string(b), "\x00") {
		if i := strings.Index(arg, dir); i >= 0 {
			rest := arg[i+len(dir):]
			if rest == "" || rest[0] == '/' || rest[0] == '"' || rest[0] == ' ' || rest[0] == '\'' {
				return true
			}
		}
	}
	return false
}

// holdsUnder reports whether m, a mount of another namespace, is lab
// state below dir that only that namespace has:
//
//   - a file system mounted below dir whose device no mount of ours has
//     (a tmpfs mounted inside `unshare -m`);
//   - a root mount ("/") whose directory lives below dir in our namespace
//     (the bind mount of a rootfs a jail pivoted into).
//
// Copies of our own mounts, and bind mounts of our file systems below dir,
// are not counted: every mount namespace created while a lab mount existed
// (a systemd service's, for one) holds such a copy, and it is not ours to
// kill.
func holdsUnder(m procfs.Mount, dir string, ours []procfs.Mount) bool {
	ourDevice := false
	for _, o := range ours {
		if o.Major == m.Major && o.Minor == m.Minor {
			if o.Root == m.Root && o.Point == m.Point {
				return false // a copy of one of our own mounts
			}
			ourDevice = true
		}
	}
	if m.Point != "/" {
		return !ourDevice && mount.Under(m.Point, dir)
	}
	// Where does the directory mounted at their / live in our namespace? A
	// mount of the same file system whose root contains m.Root holds it.
	for _, o := range ours {
		if o.Major != m.Major || o.Minor != m.Minor || !mount.Under(m.Root, o.Root) {
			continue
		}
		path := filepath.Join(o.Point, strings.TrimPrefix(m.Root, strings.TrimSuffix(o.Root, "/")))
		if mount.Under(path, dir) {
			return true
		}
	}
	return false
}

// dirIDs returns the "dev:inode" of dir and of the directories below it,
// down to depth levels. It does not descend into mount points: a rootfs
// holding a bind mount of the host's / must not make every process on
// the machine look like a user of dir. The host's own / is never listed.
func dirIDs(dir string, depth int, ours []procfs.Mount) map[string]bool {
	ids := map[string]bool{}
	hostRoot, _ := fileID("/")
	mounted := map[string]bool{}
	for _, m := range ours {
		mounted[m.Point] = true
	}
	var walk func(string, int)
	walk = func(d string, left int) {
		id, err := fileID(d)
		if err != nil || id == hostRoot {
			return
		}
		ids[id] = true
		if left == 0 {
			return
		}
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			child := filepath.Join(d, e.Name())
			if e.IsDir() && !mounted[child] {
				walk(child, left-1)
			}
		}
	}
	walk(dir, depth)
	return ids
}

// Vacate frees dir of everything the labs leave in the kernel: it kills
// the processes Users finds, then unmounts every mount at or below dir in
// our namespace, deepest first (lazily when busy). Mounts that only other
// namespaces had go away with the killed processes. A missing dir is
// nothing to do.
func Vacate(dir string) error {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if _, err := KillUsers(dir); err != nil {
		return err
	}
	return mount.UnmountAll(dir)
}

// KillUsers sends SIGKILL to every process Users(dir) finds and waits (up
// to three seconds) until they are gone, so that their mounts and mount
// namespaces go away with them. It returns the PIDs it killed.
func KillUsers(dir string) ([]int, error) {
	pids, err := Users(dir)
	if err != nil {
		return nil, fmt.Errorf("find processes using %s: %w", dir, err)
	}
	for _, pid := range pids {
		if err := unix.Kill(pid, unix.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
			return pids, fmt.Errorf("kill %d: %w", pid, err)
		}
	}
	deadline := time.Now().Add(3 * time.Second)
	for _, pid := range pids {
		for alive(pid) {
			if time.Now().After(deadline) {
				return pids, fmt.Errorf("rootfs: process %d still alive after SIGKILL", pid)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return pids, nil
}

// alive reports whether pid exists and is not a zombie (a zombie holds no
// mount namespace and no root any more).
func alive(pid int) bool {
	st, err := procfs.ReadStatus(os.DirFS("/"), pid)
	if err != nil {
		return false
	}
	return !strings.HasPrefix(st.State, "Z")
}
