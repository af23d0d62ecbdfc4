package mount

import (
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lab-edu/lab/kernel/procfs"
)

// Mount calls mount(2) with the value's fields.
//
// Equivalent to: mount -t FSTYPE -o DATA SOURCE TARGET
func (m Mount) Mount() error {
	if err := unix.Mount(m.Source, m.Target, m.FSType, m.Flags, m.Data); err != nil {
		return &Error{Op: "mount", Source: m.Source, Target: m.Target, FSType: m.FSType, Flags: m.Flags, Data: m.Data, Err: err}
	}
	return nil
}

// Tmpfs mounts a fresh tmpfs at target; source is the name mountinfo shows
// (use a lab-prefixed one, "lab-tmp", so it is recognisable).
//
// Equivalent to: mount -t tmpfs SOURCE TARGET
func Tmpfs(source, target, data string) error {
	return Mount{Source: source, Target: target, FSType: "tmpfs", Data: data}.Mount()
}

// Bind makes the directory tree at source also visible at target
// (MS_BIND). Mounts below source are not included; RBind includes them.
//
// Equivalent to: mount --bind SOURCE TARGET
func Bind(source, target string) error {
	return Mount{Source: source, Target: target, Flags: unix.MS_BIND}.Mount()
}

// RBind is Bind with every mount below source too (MS_BIND|MS_REC).
//
// Equivalent to: mount --rbind SOURCE TARGET
func RBind(source, target string) error {
	return Mount{Source: source, Target: target, Flags: unix.MS_BIND | unix.MS_REC}.Mount()
}

// SetPropagation changes the propagation type of the mount at target.
// Only the flag matters to the kernel: source, type and data are ignored.
// With recursive, every mount below target changes too (MS_REC).
func SetPropagation(target string, p Propagation, recursive bool) error {
	var flag uintptr
	switch p {
	case Private:
		flag = unix.MS_PRIVATE
	case Shared:
		flag = unix.MS_SHARED
	case Slave:
		flag = unix.MS_SLAVE
	case Unbindable:
		flag = unix.MS_UNBINDABLE
	default:
		return fmt.Errorf("mount: unknown propagation %v", p)
	}
	op := "make-"
	if recursive {
		flag |= unix.MS_REC
		op = "make-r"
	}
	if err := unix.Mount("", target, "", flag, ""); err != nil {
		return &Error{Op: op + p.String(), Target: target, Flags: flag, Err: err}
	}
	return nil
}

// MakePrivate: mount --make-private TARGET.
func MakePrivate(target string) error { return SetPropagation(target, Private, false) }

// MakeRPrivate: mount --make-rprivate TARGET. What unshare(1) does to / in a
// new mount namespace by default, so nothing leaks back to the host.
func MakeRPrivate(target string) error { return SetPropagation(target, Private, true) }

// MakeShared: mount --make-shared TARGET.
func MakeShared(target string) error { return SetPropagation(target, Shared, false) }

// MakeRShared: mount --make-rshared TARGET.
func MakeRShared(target string) error { return SetPropagation(target, Shared, true) }

// MakeSlave: mount --make-slave TARGET.
func MakeSlave(target string) error { return SetPropagation(target, Slave, false) }

// MakeRSlave: mount --make-rslave TARGET.
func MakeRSlave(target string) error { return SetPropagation(target, Slave, true) }

// Unmount removes the mount at target. It is idempotent: EINVAL (target is
// not a mount point) and ENOENT count as success.
//
// Equivalent to: umount TARGET
func Unmount(target string) error { return unmount(target, 0) }

// UnmountLazy detaches the mount at target now (MNT_DETACH) and lets the
// kernel finish the unmount when the last user lets go: processes that
// still have a file open or a working directory in it keep it alive, but
// nobody can reach it by path any more.
//
// Equivalent to: umount -l TARGET
func UnmountLazy(target string) error { return unmount(target, unix.MNT_DETACH) }

func unmount(target string, flags int) error {
	err := unix.Unmount(target, flags)
	switch {
	case err == nil, errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOENT):
		return nil
	}
	op := "unmount"
	if flags&unix.MNT_DETACH != 0 {
		op = "unmount -l"
	}
	return &Error{Op: op, Target: target, Err: err}
}

// Mounts returns this process's mounts, from /proc/self/mountinfo.
func Mounts() ([]procfs.Mount, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return procfs.ParseMountInfo(f)
}

// Mountpoints lists the mount points at or below dir in this process's
// mount namespace, deepest first (the order to unmount them in). A point
// mounted twice is listed twice.
func Mountpoints(dir string) ([]string, error) {
	mounts, err := Mounts()
	if err != nil {
		return nil, err
	}
	var points []string
	for _, m := range mounts {
		if Under(m.Point, dir) {
			points = append(points, m.Point)
		}
	}
	return Deepest(points), nil
}

// IsMountpoint reports whether path is a mount point in this namespace.
func IsMountpoint(path string) (bool, error) {
	mounts, err := Mounts()
	if err != nil {
		return false, err
	}
	_, ok := procfs.Find(mounts, path)
	return ok, nil
}

// UnmountAll removes every mount at or below dir, deepest first. A mount
// that stays busy (EBUSY: a process still uses it) is detached lazily as a
// last resort, so the tree is gone from the namespace either way.
func UnmountAll(dir string) error {
	for range 8 { // each pass removes at least the deepest layer
		points, err := Mountpoints(dir)
		if err != nil {
			return fmt.Errorf("list mounts under %s: %w", dir, err)
		}
		if len(points) == 0 {
			return nil
		}
		for _, p := range points {
			if err := Unmount(p); err != nil {
				if !errors.Is(err, unix.EBUSY) {
					return err
				}
				if err := UnmountLazy(p); err != nil {
					return err
				}
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	points, _ := Mountpoints(dir)
	if len(points) > 0 {
		return fmt.Errorf("mount: still mounted under %s: %v", dir, points)
	}
	return nil
}
