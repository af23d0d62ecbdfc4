package mount

import (
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// IDMapped returns a detached bind mount of the directory tree at path
// (not its submounts) whose owners are shifted by the ID mapping of the
// user namespace userns: a file that belongs to uid k on disk belongs, seen
// through the returned mount, to whatever uid k maps to in userns's
// uid_map (100000+k for the map "0 100000 65536"), and a file created
// through it by that uid is stored as k. Nothing is chowned on disk.
//
// Two syscalls of the new mount API (Linux 5.12): open_tree(2) with
// OPEN_TREE_CLONE makes the detached copy, then mount_setattr(2) with
// MOUNT_ATTR_IDMAP attaches the mapping. The file system must support
// idmapped mounts (ext4, xfs, btrfs since 5.12-5.15; tmpfs since 6.3):
// otherwise EINVAL.
//
// The result is a descriptor; the mount lives as long as it is open or
// attached somewhere (move_mount(2), or a path /proc/self/fd/N given to
// another mount such as overlayfs).
func IDMapped(path string, userns int) (int, error) {
	fd, err := unix.OpenTree(unix.AT_FDCWD, path, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return -1, &os.PathError{Op: "open_tree", Path: path, Err: err}
	}
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(userns)}
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, &attr); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("idmap mount of %s (mount_setattr MOUNT_ATTR_IDMAP): %w", path, err)
	}
	return fd, nil
}

// InNamespaceOf runs fn in the mount namespace of process pid, on an OS
// thread of its own that is never handed back to Go (it ends with its
// goroutine): so no other goroutine ever runs in that namespace, and fn
// may change the thread's credentials (setfsuid(2)) for good.
//
// The thread first leaves the file system attributes it shares with the
// rest of this Go process (unshare(CLONE_FS): setns(2) of a mount
// namespace refuses a shared fs_struct), then enters the namespace.
//
// Equivalent to: nsenter --target PID --mount sh -c '...'
func InNamespaceOf(pid int, fn func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		if err := enterMountNamespace(pid); err != nil {
			done <- err
			return
		}
		done <- fn()
	}()
	return <-done
}

func enterMountNamespace(pid int) error {
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return fmt.Errorf("unshare CLONE_FS: %w", err)
	}
	path := fmt.Sprintf("/proc/%d/ns/mnt", pid)
	nsfd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(nsfd)
	if err := unix.Setns(nsfd, unix.CLONE_NEWNS); err != nil {
		return fmt.Errorf("enter mount namespace of process %d: %w", pid, err)
	}
	return nil
}

// Attach attaches the detached mount fd (IDMapped, open_tree(2),
// fsmount(2)) at target with move_mount(2).
//
// Equivalent to: mount --move /proc/self/fd/FD TARGET
func Attach(fd int, target string) error {
	if err := unix.MoveMount(fd, "", unix.AT_FDCWD, target, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return &Error{Op: "move_mount", Target: target, Err: err}
	}
	return nil
}
