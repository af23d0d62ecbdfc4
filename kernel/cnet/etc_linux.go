package cnet

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// WriteEtc writes /etc/hostname, /etc/hosts and /etc/resolv.conf into the
// container's root directory rootfs (the mounted overlay), for network
// mode mode ("bridge", "none", "host"); ep is the Attach result in bridge
// mode, nil otherwise. In host mode /etc/hosts is the host's. Paths are
// resolved inside rootfs (openat2 RESOLVE_IN_ROOT), so a symbolic link in
// the image cannot make lab write outside it.
func WriteEtc(rootfs, hostname string, ep *Endpoint, mode string) error {
	hosts := hostsFile(hostname, ep)
	if mode == ModeHost {
		b, err := os.ReadFile("/etc/hosts")
		if err != nil {
			return fmt.Errorf("write /etc/hosts: %w", err)
		}
		hosts = b
	}
	resolv, err := os.ReadFile("/etc/resolv.conf")
	if errors.Is(err, fs.ErrNotExist) {
		resolv = nil // no resolver on the host: the container gets the fallback
	} else if err != nil {
		return fmt.Errorf("write /etc/resolv.conf: %w", err)
	}
	if mode != ModeHost && onlySystemdStub(resolv) {
		if b, err := os.ReadFile("/run/systemd/resolve/resolv.conf"); err == nil {
			resolv = b
		}
	}
	root, err := unix.Open(rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("write /etc files: %w", &os.PathError{Op: "open", Path: rootfs, Err: err})
	}
	defer unix.Close(root)
	// A missing /etc is created; an existing one (even a symbolic link,
	// resolved inside the root below) is used as it is.
	if err := unix.Mkdirat(root, "etc", 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("write /etc files: %w", &os.PathError{Op: "mkdir", Path: rootfs + "/etc", Err: err})
	}
	how := &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	}
	etc, err := unix.Openat2(root, "etc", how)
	if err != nil {
		return fmt.Errorf("write /etc files: %w", &os.PathError{Op: "openat2", Path: rootfs + "/etc", Err: err})
	}
	defer unix.Close(etc)
	files := []struct {
		name string
		data []byte
	}{
		{"hostname", hostnameFile(hostname)},
		{"hosts", hosts},
		{"resolv.conf", containerResolvConf(resolv, mode)},
	}
	for _, f := range files {
		if err := writeIn(etc, rootfs+"/etc/"+f.name, f.name, f.data); err != nil {
			return fmt.Errorf("write /etc/%s: %w", f.name, err)
		}
	}
	return nil
}

// writeIn writes data to the file name of directory dir, which must end
// up a regular file. The image decides what is there: a symbolic link
// (which could point anywhere, resolved after the root changes), a FIFO
// (opening it would block) or a device node (writing could reach a host
// disk) is removed and replaced by a regular file. Nothing runs in the
// container yet, so nobody can swap the file between the checks.
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
