package image

import (
	"fmt"
	"io/fs"
	"os"
	"path"

	"golang.org/x/sys/unix"

	"github.com/lab-edu/lab/kernel/overlay"
)

// mknodAt makes a device node or fifo at name inside root with
// mknodat(2) on its parent directory, opened through root so the parent
// cannot be outside it. A character device 0/0 is an overlayfs whiteout.
func mknodAt(root *os.Root, name string, mode fs.FileMode, major, minor uint32) error {
	parent, err := root.Open(path.Dir(name))
	if err != nil {
		return fmt.Errorf("mknod %s: %w", name, err)
	}
	defer parent.Close()
	var kind uint32
	switch {
	case mode&fs.ModeCharDevice != 0:
		kind = unix.S_IFCHR
	case mode&fs.ModeDevice != 0:
		kind = unix.S_IFBLK
	case mode&fs.ModeNamedPipe != 0:
		kind = unix.S_IFIFO
	}
	perm := uint32(mode.Perm())
	if err := unix.Mknodat(int(parent.Fd()), path.Base(name), kind|perm, int(unix.Mkdev(major, minor))); err != nil {
		return &os.PathError{Op: "mknod", Path: name, Err: err}
	}
	return nil
}

// setOpaqueAt sets trusted.overlay.opaque="y" on the directory dir.
func setOpaqueAt(root *os.Root, dir string) error {
	return setXattrAt(root, dir, overlay.OpaqueXattr, []byte("y"))
}

// setXattrAt sets an extended attribute on a file or directory inside
// root with fsetxattr(2) on a descriptor opened through root.
func setXattrAt(root *os.Root, name, attr string, value []byte) error {
	f, err := root.OpenFile(name, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return fmt.Errorf("setxattr %s on %s: %w", attr, name, err)
	}
	defer f.Close()
	if err := unix.Fsetxattr(int(f.Fd()), attr, value, 0); err != nil {
		return &os.PathError{Op: "setxattr " + attr, Path: name, Err: err}
	}
	return nil
}
