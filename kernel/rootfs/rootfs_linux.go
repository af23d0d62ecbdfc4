package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/lab-edu/lab/kernel/mount"
)

// Chroot makes dir the root directory of the calling process (every
// thread of it: Go threads share one fs_struct) and moves the working
// directory into it.
//
// chroot(2) only changes where path resolution starts for "/". It does not
// move the working directory, does not change any mount, and leaves every
// other namespace alone, which is why a root process can walk out again
// (see Escape). The chdir before it is what chroot(8) does too.
//
// Equivalent to: cd DIR && chroot .
func Chroot(dir string) error {
	if err := unix.Chdir(dir); err != nil {
		return &os.PathError{Op: "chdir", Path: dir, Err: err}
	}
	if err := unix.Chroot("."); err != nil {
		return &os.PathError{Op: "chroot", Path: dir, Err: err}
	}
	if err := unix.Chdir("/"); err != nil {
		return &os.PathError{Op: "chdir", Path: "/", Err: err}
	}
	return nil
}

// PivotRoot makes newRoot the root mount of the calling process's mount
// namespace and detaches the old root, so nothing of the host's file
// system stays reachable: no path leads back, not even "..".
//
// Preconditions: the caller is alone in a new mount namespace
// (unshare(CLONE_NEWNS), or CLONE_NEWNS at clone), and root.
//
// The steps, each a kernel rule of pivot_root(2):
//  1. make every mount private (MS_REC|MS_PRIVATE on /): pivot_root
//     refuses a shared parent, and we do not want our mounts to propagate
//     to the host anyway;
//  2. bind newRoot onto itself: the new root must be a mount point;
//  3. pivot_root(".", "."): runc's trick, with no put_old directory. The
//     old root ends up mounted on top of the new one, at "/";
//  4. umount2(".", MNT_DETACH) removes that old root from the namespace
//     (lazily, so busy files do not block it), and chdir("/") lands on
//     the new root underneath.
//
// Equivalent to: mount --make-rprivate / && mount --bind NEW NEW && cd NEW
// && pivot_root . old_root && umount -l /old_root
func PivotRoot(newRoot string) error {
	if err := mount.MakeRPrivate("/"); err != nil {
		return err
	}
	if err := mount.Bind(newRoot, newRoot); err != nil {
		return err
	}
	return pivotAndDetach(newRoot)
}

// PivotRootMountpoint is PivotRoot for a newRoot that already is a mount
// point with submounts prepared in it (a container in a user namespace
// mounts /proc and /sys before pivot_root: see MountKernelFSInRoot). It
// skips the bind of step 2, which would leave those submounts behind.
func PivotRootMountpoint(newRoot string) error {
	if err := mount.MakeRPrivate("/"); err != nil {
		return err
	}
	return pivotAndDetach(newRoot)
}

// pivotAndDetach is steps 3 and 4 of PivotRoot.
func pivotAndDetach(newRoot string) error {
	if err := unix.Chdir(newRoot); err != nil {
		return &os.PathError{Op: "chdir", Path: newRoot, Err: err}
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return &os.PathError{Op: "pivot_root", Path: newRoot, Err: err}
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return &mount.Error{Op: "unmount -l", Target: "old root", Err: err}
	}
	if err := unix.Chdir("/"); err != nil {
		return &os.PathError{Op: "chdir", Path: "/", Err: err}
	}
	return nil
}

// MountProc mounts a proc file system at root/proc. It shows the
// processes of the caller's PID namespace: in a chroot on the host, all of
// the host's processes.
//
// Equivalent to: mount -t proc proc ROOT/proc
func MountProc(root string) error {
	target := filepath.Join(root, "proc")
	if err := os.MkdirAll(target, 0o555); err != nil {
		return err
	}
	return mount.Mount{Source: "proc", Target: target, FSType: "proc",
		Flags: unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC}.Mount()
}

// device is one node of the minimal /dev, the set the OCI runtime spec
// requires every container to have.
type device struct {
	name         string
	major, minor uint32
}

var devices = []device{
	{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7},
	{"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
}

// MinimalDev mounts a small tmpfs at root/dev holding only the character
// devices a program expects (null, zero, full, random, urandom, tty) and
// the usual links (fd, stdin, stdout, stderr, ptmx), instead of the host's
// whole /dev with its disks.
func MinimalDev(root string) error {
	dev, err := devTmpfs(root)
	if err != nil {
		return err
	}
	for _, d := range devices {
		path := filepath.Join(dev, d.name)
		if err := unix.Mknod(path, unix.S_IFCHR|0o666, int(unix.Mkdev(d.major, d.minor))); err != nil {
			return &os.PathError{Op: "mknod", Path: path, Err: err}
		}
		// mknod's mode is filtered by the umask; devices must be 0666.
		if err := os.Chmod(path, 0o666); err != nil {
			return err
		}
	}
	return devLinks(dev)
}

// devTmpfs mounts the small tmpfs of the minimal /dev at root/dev and
// returns its path.
func devTmpfs(root string) (string, error) {
	dev := filepath.Join(root, "dev")
	if err := os.MkdirAll(dev, 0o755); err != nil {
		return "", err
	}
	return dev, mount.Tmpfs("tmpfs", dev, "mode=755,size=64k")
}

// devLinks makes the usual links of /dev in dev.
func devLinks(dev string) error {
	links := map[string]string{"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0",
		"stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2", "ptmx": "pts/ptmx"}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(dev, name)); err != nil && !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("link /dev/%s: %w", name, err)
		}
	}
	return nil
}
