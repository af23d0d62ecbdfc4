package rootfs

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/lab-edu/lab/kernel/mount"
)

// A container in a user namespace of its own is root only over what that
// namespace owns. Two kernel rules change how its root file system is
// built, and the functions here are the other way round:
//
//   - mknod(2) of a device needs CAP_MKNOD in the host's user namespace:
//     the minimal /dev holds bind mounts of the host's device nodes
//     instead (CloneDevices before pivot_root, MinimalDevFrom after).
//   - a new proc or sysfs is mounted only where the mount namespace
//     already shows a whole one (the kernel's mount_too_revealing(): a
//     namespace must not mount a proc that reveals what locked mounts
//     hide). After pivot_root and the detach of the old root there is
//     none left, so both are mounted before: MountKernelFSInRoot.

// DeviceClones are detached bind mounts of the host's device nodes of the
// minimal /dev, by name ("null", "zero", ...).
type DeviceClones map[string]int

// CloneDevices takes a detached bind mount (open_tree(2) with
// OPEN_TREE_CLONE) of each host device node of the minimal /dev while the
// host's /dev is still reachable.
func CloneDevices() (DeviceClones, error) {
	clones := DeviceClones{}
	for _, d := range devices {
		path := "/dev/" + d.name
		fd, err := unix.OpenTree(unix.AT_FDCWD, path, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
		if err != nil {
			clones.Close()
			return nil, &os.PathError{Op: "open_tree", Path: path, Err: err}
		}
		clones[d.name] = fd
	}
	return clones, nil
}

// Close releases the clones not attached.
func (c DeviceClones) Close() {
	for name, fd := range c {
		unix.Close(fd)
		delete(c, name)
	}
}

// MinimalDevFrom is MinimalDev for a process without CAP_MKNOD: the same
// tmpfs and links, with each device an empty file on which the clone of
// the host's node is attached (move_mount(2)).
func MinimalDevFrom(root string, clones DeviceClones) error {
	dev, err := devTmpfs(root)
	if err != nil {
		return err
	}
	for _, d := range devices {
		fd, ok := clones[d.name]
		if !ok {
			return fmt.Errorf("rootfs: no clone of /dev/%s", d.name)
		}
		path := filepath.Join(dev, d.name)
		if err := os.WriteFile(path, nil, 0o666); err != nil {
			return err
		}
		if err := unix.MoveMount(fd, "", unix.AT_FDCWD, path, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
			return &mount.Error{Op: "move_mount", Source: "/dev/" + d.name, Target: path, Err: err}
		}
		unix.Close(fd)
		delete(clones, d.name)
	}
	return devLinks(dev)
}

// MountKernelFSInRoot mounts a fresh proc at root/proc and a read-only
// sysfs at root/sys before pivot_root. Both targets are resolved inside
// root (openat2(2) with RESOLVE_IN_ROOT): a symbolic link /proc -> /etc in
// the image resolves to root/etc, never to the host's /etc. The mount then
// goes onto the resolved directory through its /proc/self/fd/N link.
func MountKernelFSInRoot(root string) error {
	for _, m := range []mount.Mount{
		{Source: "proc", Target: "proc", FSType: "proc", Flags: unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC},
		{Source: "sysfs", Target: "sys", FSType: "sysfs", Flags: unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC},
	} {
		if err := mountInRoot(root, m); err != nil {
			return err
		}
	}
	return nil
}

func mountInRoot(root string, m mount.Mount) error {
	rootFD, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: root, Err: err}
	}
	defer unix.Close(rootFD)
	// Already there, or something else in the way: openat2 reports that.
	_ = unix.Mkdirat(rootFD, m.Target, 0o555)
	how := unix.OpenHow{Flags: unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS}
	fd, err := unix.Openat2(rootFD, m.Target, &how)
	if err != nil {
		return &os.PathError{Op: "openat2", Path: filepath.Join(root, m.Target), Err: err}
	}
	defer unix.Close(fd)
	m.Target = fmt.Sprintf("/proc/self/fd/%d", fd)
	return m.Mount()
}
