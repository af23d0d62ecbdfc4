package overlay

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/lab-edu/lab/kernel/mount"
)

// MountIDMapped builds the stack as a detached overlay mount (a descriptor,
// see mount.AttachIn) for a container in the user namespace userns, whose
// root is uid and gid rootUID and rootGID on the host. Every layer is
// seen through an idmapped mount (mount.IDMapped) of userns: files the
// image stores as root:root are root:root inside the container, and what
// the container writes lands in Upper with the IDs it has inside, so the
// layers on disk stay the same as for any other container (diff, commit
// and export read them unchanged).
//
// Upper and Work must share a parent directory: overlayfs wants them on
// one mount, and that parent is idmapped as one mount.
//
// Why the mount is made with a file system uid of rootUID: overlayfs does
// its own work in the layers (the work directory, copy-up) with the
// credentials of whoever mounted it, recorded at mount time. Seen through
// the idmapped layers, the host's root has no uid at all (the mapping
// covers rootUID and up only) and the kernel refuses to create anything
// as it (EOVERFLOW, and the overlay falls back to read-only). So the mount
// happens on a thread that took rootUID as its file system uid and gid
// (setfsuid(2), setfsgid(2); they act on the calling thread only) and
// raised its capabilities again (a change of fsuid away from 0 clears
// the file-related ones: capabilities(7)). The thread is discarded
// afterwards.
//
// Needs Linux 5.19 (overlayfs on idmapped layers) and a file system that
// supports idmapped mounts.
func MountIDMapped(l Layers, userns int, rootUID, rootGID int) (int, error) {
	if _, err := l.Options(); err != nil {
		return -1, err
	}
	if l.ReadOnly() || filepath.Dir(l.Upper) != filepath.Dir(l.Work) {
		return -1, fmt.Errorf("overlay: an idmapped stack needs upper and work dirs side by side (%q, %q)", l.Upper, l.Work)
	}
	var fds []int
	defer func() {
		for _, fd := range fds {
			unix.Close(fd) // the overlay keeps its own references to the layers
		}
	}()
	idmap := func(dir string) (string, error) {
		fd, err := mount.IDMapped(dir, userns)
		if err != nil {
			return "", err
		}
		fds = append(fds, fd)
		return fmt.Sprintf("/proc/self/fd/%d", fd), nil
	}
	var lower []string
	for _, dir := range l.Lower {
		p, err := idmap(dir)
		if err != nil {
			return -1, err
		}
		lower = append(lower, p)
	}
	parent, err := idmap(filepath.Dir(l.Upper))
	if err != nil {
		return -1, err
	}
	options := [][2]string{
		{"lowerdir", strings.Join(lower, ":")},
		{"upperdir", parent + "/" + filepath.Base(l.Upper)},
		{"workdir", parent + "/" + filepath.Base(l.Work)},
	}
	type result struct {
		fd  int
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		fd, err := mountAs(options, rootUID, rootGID)
		done <- result{fd, err}
	}()
	r := <-done
	return r.fd, r.err
}

// mountAs creates the overlay with fsopen(2), fsconfig(2) and fsmount(2)
// on the calling (locked, discarded) thread, as file system uid and gid.
func mountAs(options [][2]string, uid, gid int) (int, error) {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var caps [2]unix.CapUserData
	if err := unix.Capget(&hdr, &caps[0]); err != nil {
		return -1, fmt.Errorf("capget: %w", err)
	}
	unix.Setfsgid(gid)
	unix.Setfsuid(uid)
	if err := unix.Capset(&hdr, &caps[0]); err != nil {
		return -1, fmt.Errorf("raise capabilities after setfsuid: %w", err)
	}
	fsfd, err := unix.Fsopen("overlay", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return -1, fmt.Errorf("fsopen overlay: %w", err)
	}
	defer unix.Close(fsfd)
	for _, o := range options {
		if err := unix.FsconfigSetString(fsfd, o[0], o[1]); err != nil {
			return -1, fmt.Errorf("overlay option %s=%s: %w", o[0], o[1], err)
		}
	}
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return -1, fmt.Errorf("create idmapped overlay: %w", err)
	}
	fd, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("fsmount overlay: %w", err)
	}
	// An overlay that cannot write its work directory mounts read-only
	// instead of failing (the reason goes to the kernel log only).
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err == nil && st.Flags&unix.ST_RDONLY != 0 {
		unix.Close(fd)
		return -1, fmt.Errorf("idmapped overlay fell back to read-only (the kernel log says why)")
	}
	return fd, nil
}
