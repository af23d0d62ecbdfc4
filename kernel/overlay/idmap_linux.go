package overlay

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/lab-edu/lab/kernel/mount"
)

// MountIDMapped mounts the stack for a container in the user namespace
// userns, whose root is uid and gid rootUID and rootGID on the host, and
// returns an O_PATH descriptor of the merged root. Every layer is seen
// through an idmapped mount (mount.IDMapped) of userns: files the image
// stores as root:root are root:root inside the container, and what the
// container writes lands in Upper with the IDs it has inside, so the layers
// on disk stay the same as for any other container (diff, commit and
// export read them unchanged).
//
// scratch is an empty directory. A tmpfs goes on it, holding one
// directory per idmapped layer (l0, l1, ...), one for the idmapped parent
// of Upper and Work (c: overlayfs wants both on one mount, so they must be
// side by side) and the overlay itself (root). The layers are attached
// there, not only held as descriptors, because overlayfs before Linux
// 6.15 takes private clones of its layers only from mounts of the
// caller's own mount namespace (clone_private_mount()).
//
// Preconditions: the caller runs on a locked OS thread that is never
// handed back to Go, in a mount namespace where scratch does not
// propagate to the host (mount.InNamespaceOf, after MakeRPrivate("/")).
// The thread's file system uid and gid are changed, for this reason:
// overlayfs does its own work in the layers (the work directory, copy-up)
// with the credentials of whoever mounted it, recorded at mount time.
// Seen through the idmapped layers the host's root has no uid at all (the
// mapping covers rootUID and up only) and the kernel refuses to create
// anything as it (EOVERFLOW, and the overlay falls back to read-only). So
// the mount is made with rootUID and rootGID as file system IDs
// (setfsuid(2), setfsgid(2): calling thread only) and the capabilities
// raised again (a change of fsuid away from 0 clears the file-related
// ones: capabilities(7)).
//
// Needs Linux 5.19 (overlayfs on idmapped layers) and a file system that
// supports idmapped mounts (ext4, xfs, btrfs; tmpfs since 6.3).
func MountIDMapped(l Layers, userns, rootUID, rootGID int, scratch string) (int, error) {
	if _, err := l.Options(); err != nil {
		return -1, err
	}
	if l.ReadOnly() || filepath.Dir(l.Upper) != filepath.Dir(l.Work) {
		return -1, fmt.Errorf("overlay: an idmapped stack needs upper and work dirs side by side (%q, %q)", l.Upper, l.Work)
	}
	if err := mount.Tmpfs("tmpfs", scratch, "mode=755,size=64k"); err != nil {
		return -1, err
	}
	var lower []string
	for i, dir := range l.Lower {
		at := filepath.Join(scratch, "l"+strconv.Itoa(i))
		if err := attachIDMapped(dir, at, userns); err != nil {
			return -1, err
		}
		lower = append(lower, at)
	}
	parent := filepath.Join(scratch, "c")
	if err := attachIDMapped(filepath.Dir(l.Upper), parent, userns); err != nil {
		return -1, err
	}
	root := filepath.Join(scratch, "root")
	if err := os.Mkdir(root, 0o755); err != nil {
		return -1, err
	}
	mapped := Layers{Lower: lower, Upper: filepath.Join(parent, filepath.Base(l.Upper)), Work: filepath.Join(parent, filepath.Base(l.Work))}
	if err := mountAs(mapped, root, rootUID, rootGID); err != nil {
		return -1, err
	}
	fd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: root, Err: err}
	}
	return fd, nil
}

// attachIDMapped attaches an idmapped copy of dir at the new directory at.
func attachIDMapped(dir, at string, userns int) error {
	if err := os.Mkdir(at, 0o755); err != nil {
		return err
	}
	fd, err := mount.IDMapped(dir, userns)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return mount.Attach(fd, at)
}

// mountAs mounts l at target with the calling thread's file system IDs
// set to uid and gid and its capabilities kept.
func mountAs(l Layers, target string, uid, gid int) error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var caps [2]unix.CapUserData
	if err := unix.Capget(&hdr, &caps[0]); err != nil {
		return fmt.Errorf("capget: %w", err)
	}
	unix.Setfsgid(gid)
	unix.Setfsuid(uid)
	if err := unix.Capset(&hdr, &caps[0]); err != nil {
		return fmt.Errorf("raise capabilities after setfsuid: %w", err)
	}
	if err := Mount(l, target); err != nil {
		return err
	}
	// An overlay that cannot write its work directory mounts read-only
	// instead of failing (the reason goes to the kernel log only).
	var st unix.Statfs_t
	if err := unix.Statfs(target, &st); err == nil && st.Flags&unix.ST_RDONLY != 0 {
		_ = unix.Unmount(target, unix.MNT_DETACH)
		return fmt.Errorf("overlay on %s: idmapped, it fell back to read-only (the kernel log says why)", target)
	}
	return nil
}
