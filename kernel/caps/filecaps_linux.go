package caps

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// ReadFileCaps returns the capabilities of the file at path, read with
// getxattr(2) from security.capability. ok is false when the file has
// none (ENODATA). Equivalent to: getcap PATH.
func ReadFileCaps(path string) (f FileCaps, ok bool, err error) {
	buf := make([]byte, 64)
	n, err := unix.Getxattr(path, XattrName, buf)
	if errors.Is(err, unix.ENODATA) {
		return FileCaps{}, false, nil
	}
	if err != nil {
		return FileCaps{}, false, &os.PathError{Op: "getxattr " + XattrName, Path: path, Err: err}
	}
	f, err = ParseFileCaps(buf[:n])
	if err != nil {
		return FileCaps{}, false, fmt.Errorf("read file capabilities of %s: %w", path, err)
	}
	return f, true, nil
}

// WriteFileCaps gives the file at path the capabilities f with
// setxattr(2). It needs CAP_SETFCAP. Any write to the file later makes
// the kernel remove the attribute, so a modified binary loses its
// privilege. Equivalent to: setcap TEXT PATH.
func WriteFileCaps(path string, f FileCaps) error {
	b, err := f.Bytes()
	if err != nil {
		return err
	}
	if err := unix.Setxattr(path, XattrName, b, 0); err != nil {
		return &os.PathError{Op: "setxattr " + XattrName, Path: path, Err: err}
	}
	return nil
}

// RemoveFileCaps removes the file's capabilities. A file without any, or
// no file at all, is success. Equivalent to: setcap -r PATH.
func RemoveFileCaps(path string) error {
	err := unix.Removexattr(path, XattrName)
	if err == nil || errors.Is(err, unix.ENODATA) || errors.Is(err, unix.ENOENT) {
		return nil
	}
	return &os.PathError{Op: "removexattr " + XattrName, Path: path, Err: err}
}
