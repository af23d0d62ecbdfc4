package rootfs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// HostBusybox is the statically linked busybox of Debian's busybox-static
// package. It is a lab-provided tool, run by absolute path, never looked up
// in $PATH.
const HostBusybox = "/bin/busybox"

// skeleton is the directory layout of a minimal root file system.
var skeleton = []string{"bin", "sbin", "usr/bin", "usr/sbin", "proc", "dev", "sys", "tmp", "etc", "root"}

// BuildBusybox makes dir a minimal root file system: the skeleton
// directories, the host's static busybox as /bin/busybox, and one symlink
// to /bin/busybox per applet at the applet's usual place (/bin/sh,
// /usr/bin/awk, ...): what `busybox --install -s` does when run inside.
// The applet list comes from `busybox --list-full`, so nothing is
// hard-coded. The links are absolute, so they resolve inside the rootfs
// once a process has it as its root.
//
// Equivalent to: mkdir -p DIR/{bin,sbin,usr/bin,usr/sbin,proc,dev,tmp} &&
// cp /bin/busybox DIR/bin/ && chroot DIR /bin/busybox --install -s
func BuildBusybox(ctx context.Context, dir string) error {
	for _, d := range skeleton {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	if err := os.Chmod(filepath.Join(dir, "tmp"), 0o1777); err != nil {
		return err
	}
	if err := copyFile(HostBusybox, filepath.Join(dir, "bin", "busybox"), 0o755); err != nil {
		return fmt.Errorf("copy busybox: %w (is busybox-static installed?)", err)
	}
	applets, err := Applets(ctx)
	if err != nil {
		return err
	}
	for _, rel := range applets {
		link := filepath.Join(dir, rel)
		if rel == "bin/busybox" {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
			return err
		}
		if target, err := os.Readlink(link); err == nil && target == "/bin/busybox" {
			continue
		}
		_ = os.Remove(link) // a wrong link or file there is replaced
		if err := os.Symlink("/bin/busybox", link); err != nil {
			return fmt.Errorf("link applet %s: %w", rel, err)
		}
	}
	return nil
}

// Applets asks the host's busybox where each of its applets belongs
// ("bin/sh", "usr/bin/awk", ...).
func Applets(ctx context.Context) ([]string, error) {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, HostBusybox, "--list-full")
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("list busybox applets: %w", err)
	}
	var applets []string
	for _, line := range strings.Split(out.String(), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.Contains(line, "..") || strings.HasPrefix(line, "/") {
			continue
		}
		applets = append(applets, line)
	}
	if len(applets) == 0 {
		return nil, errors.New("rootfs: busybox --list-full printed no applet")
	}
	return applets, nil
}

// copyFile copies src to a temporary file beside dst and renames it into
// place: rename replaces dst atomically even while a process runs it
// (writing into a running executable fails with ETXTBSY).
func copyFile(src, dst string, perm os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.CreateTemp(filepath.Dir(dst), ".lab-copy-*")
	if err != nil {
		return err
	}
	defer os.Remove(out.Name())
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	if err := os.Chmod(out.Name(), perm); err != nil {
		return err
	}
	return os.Rename(out.Name(), dst)
}
