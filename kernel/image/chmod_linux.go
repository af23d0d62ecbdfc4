package image

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// ChmodIn sets the mode of name inside root without following a symlink
// out of it.
//
// os.Root.Chmod calls fchmodat(2) with AT_SYMLINK_NOFOLLOW, a flag only
// the fchmodat2 system call of Linux 6.6 and later accepts: Debian 12's
// 6.1 kernel answers EOPNOTSUPP. The fallback opens the file itself inside
// root with O_NOFOLLOW (O_NONBLOCK so a FIFO does not wait for a writer)
// and calls fchmod(2) on the descriptor. Files that cannot be opened
// (a device without a driver, like a whiteout's 0/0) get glibc's way:
// an O_PATH descriptor and chmod of its /proc/self/fd/N link, which the
// kernel resolves to that very inode.
func ChmodIn(root *os.Root, name string, mode fs.FileMode) error {
	err := root.Chmod(name, mode)
	if !errors.Is(err, errors.ErrUnsupported) {
		return err
	}
	return chmodByFD(root, name, mode)
}

// chmodByFD is ChmodIn's fallback for kernels without fchmodat2.
func chmodByFD(root *os.Root, name string, mode fs.FileMode) error {
	if f, err := root.OpenFile(name, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0); err == nil {
		defer f.Close()
		return f.Chmod(mode)
	}
	f, err := root.OpenFile(name, unix.O_PATH|unix.O_NOFOLLOW|os.O_RDONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := os.Chmod(fmt.Sprintf("/proc/self/fd/%d", f.Fd()), mode); err != nil {
		return fmt.Errorf("chmod %s: %w", name, err)
	}
	return nil
}
