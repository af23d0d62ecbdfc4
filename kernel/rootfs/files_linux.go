package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// WriteFiles writes files into directory dir (such as "etc") of the root
// file system root, before anything runs there (the runtime writes
// /etc/hosts, /etc/hostname and /etc/resolv.conf of a container this way).
// A missing dir is created; an existing one, even a symbolic link, is
// resolved inside root (openat2(2) with RESOLVE_IN_ROOT), so an image with
// /etc -> /host/etc cannot make it write outside root.
func WriteFiles(root, dir string, files []File) error {
	rootFD, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: root, Err: err}
	}
	defer unix.Close(rootFD)
	where := filepath.Join(root, dir)
	if err := unix.Mkdirat(rootFD, dir, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
		return &os.PathError{Op: "mkdir", Path: where, Err: err}
	}
	how := &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	}
	dirFD, err := unix.Openat2(rootFD, dir, how)
	if err != nil {
		return &os.PathError{Op: "openat2", Path: where, Err: err}
	}
	defer unix.Close(dirFD)
	for _, f := range files {
		if err := writeIn(dirFD, filepath.Join(where, f.Name), f.Name, f.Data); err != nil {
			return fmt.Errorf("write /%s/%s: %w", dir, f.Name, err)
		}
	}
	return nil
}

// writeIn writes data to the file name of directory dir, which must end
// up a regular file. The image decides what is there: a symbolic link
// (which could point anywhere, resolved after the root changes), a FIFO
// (opening it would block) or a device node (writing could reach a host
// disk) is removed and replaced by a regular file. Nothing runs in the
// root yet, so nobody can swap the file between the checks.
func writeIn(dir int, path, name string, data []byte) error {
	var st unix.Stat_t
	err := unix.Fstatat(dir, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	if err == nil && st.Mode&unix.S_IFMT != unix.S_IFREG {
		if err := unix.Unlinkat(dir, name, 0); err != nil {
			return &os.PathError{Op: "unlink", Path: path, Err: err}
		}
	}
	fd, err := unix.Openat(dir, name, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return &os.PathError{Op: "open", Path: path, Err: err}
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return &os.PathError{Op: "open", Path: path, Err: unix.EINVAL}
	}
	_, err = f.Write(data)
	return err
}
