package rootfs

import (
	"errors"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/lab-edu/lab/kernel/mount"
)

// MaskedPaths are the files and directories runc hides in every container
// (runtime-spec's defaults): kernel memory (/proc/kcore), the host's keys,
// timer and scheduler internals that leak what other containers do, and
// firmware tables. A file is covered by /dev/null, a directory by an
// empty read-only tmpfs.
var MaskedPaths = []string{
	"/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
	"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
	"/proc/scsi", "/sys/firmware",
}

// ReadonlyPaths are the /proc entries runc makes read-only: writing to
// /proc/sys or /proc/sysrq-trigger would change the whole host (sysctls
// that are not namespaced, reboot), and /proc/irq and /proc/bus reach
// hardware.
var ReadonlyPaths = []string{
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
}

// Mask hides each path under the current root: a bind mount of /dev/null
// over a file, an empty read-only tmpfs over a directory. A path that does
// not exist is skipped (not every kernel has /proc/timer_stats).
//
// Preconditions: the root has a /dev/null (MinimalDev) and the caller is in
// the container's own mount namespace.
func Mask(paths ...string) error {
	for _, p := range paths {
		fi, err := os.Stat(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if fi.IsDir() {
			err = mount.Mount{Source: "tmpfs", Target: p, FSType: "tmpfs", Flags: unix.MS_RDONLY}.Mount()
		} else {
			err = mount.Bind("/dev/null", p)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// MakeReadonly turns each path into a read-only bind mount of itself:
// mount --bind P P, then mount -o remount,bind,ro P. A path that does not
// exist is skipped.
func MakeReadonly(paths ...string) error {
	for _, p := range paths {
		if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err := mount.Bind(p, p); err != nil {
			return err
		}
		if err := RemountReadonly(p); err != nil {
			return err
		}
	}
	return nil
}

// RemountReadonly makes the existing mount at path read-only. Flags the
// kernel locked on the mount (nosuid, nodev, noexec from a less privileged
// namespace) must be repeated, so they are read first with statfs.
//
// Equivalent to: mount -o remount,bind,ro PATH
func RemountReadonly(path string) error {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return &os.PathError{Op: "statfs", Path: path, Err: err}
	}
	flags := uintptr(unix.MS_BIND | unix.MS_REMOUNT | unix.MS_RDONLY)
	for _, f := range []struct{ st, ms uintptr }{
		{unix.ST_NOSUID, unix.MS_NOSUID}, {unix.ST_NODEV, unix.MS_NODEV}, {unix.ST_NOEXEC, unix.MS_NOEXEC},
		{unix.ST_NOATIME, unix.MS_NOATIME}, {unix.ST_RELATIME, unix.MS_RELATIME},
	} {
		if uintptr(st.Flags)&f.st != 0 {
			flags |= f.ms
		}
	}
	return mount.Mount{Source: "", Target: path, Flags: flags}.Mount()
}

// MountSys mounts a read-only sysfs at root/sys. It shows the network
// devices of the caller's network namespace, and nothing in it can be
// changed from the container.
//
// Equivalent to: mount -t sysfs -o ro,nosuid,nodev,noexec sysfs ROOT/sys
func MountSys(root string) error {
	target := filepath.Join(root, "sys")
	if err := os.MkdirAll(target, 0o555); err != nil {
		return err
	}
	return mount.Mount{Source: "sysfs", Target: target, FSType: "sysfs",
		Flags: unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC}.Mount()
}

// DevPtsAndShm completes MinimalDev with a private devpts instance at
// root/dev/pts (pseudo-terminals the container creates are its own, and
// /dev/ptmx links to its ptmx) and a 64 MiB tmpfs at root/dev/shm, as
// Docker gives.
//
// Equivalent to: mount -t devpts -o newinstance,ptmxmode=0666,mode=0620
// devpts ROOT/dev/pts && mount -t tmpfs -o mode=1777,size=64m shm ROOT/dev/shm
func DevPtsAndShm(root string) error {
	pts := filepath.Join(root, "dev", "pts")
	shm := filepath.Join(root, "dev", "shm")
	for _, d := range []string{pts, shm} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if err := (mount.Mount{Source: "devpts", Target: pts, FSType: "devpts",
		Flags: unix.MS_NOSUID | unix.MS_NOEXEC, Data: "newinstance,ptmxmode=0666,mode=0620,gid=5"}).Mount(); err != nil {
		return err
	}
	return mount.Mount{Source: "shm", Target: shm, FSType: "tmpfs",
		Flags: unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, Data: "mode=1777,size=65536k"}.Mount()
}
