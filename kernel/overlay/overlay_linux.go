package overlay

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Mount mounts the stack at target, which must be an existing directory.
//
// Equivalent to: mount -t overlay overlay -o lowerdir=...,upperdir=...,workdir=... target
func Mount(l Layers, target string) error {
	data, err := l.Options()
	if err != nil {
		return err
	}
	// The source ("overlay") is only a label shown in mountinfo; overlayfs
	// has no device. Everything it needs is in the data string.
	if err := unix.Mount("overlay", target, "overlay", 0, data); err != nil {
		return fmt.Errorf("mount overlay on %s (%s): %w", target, data, err)
	}
	return nil
}

// Unmount detaches the overlay at target. It is idempotent: a target that
// does not exist or is not a mount point (EINVAL) counts as success.
//
// Equivalent to: umount target
func Unmount(target string) error {
	err := unix.Unmount(target, 0)
	if err == nil || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOENT) {
		return nil
	}
	return fmt.Errorf("unmount %s: %w", target, err)
}

// IsWhiteout reports whether fi is an overlayfs whiteout: a character
// device with device number 0/0.
func IsWhiteout(fi fs.FileInfo) bool {
	if fi.Mode()&fs.ModeCharDevice == 0 {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t) // what os.Lstat returns on Linux
	return ok && st.Rdev == 0
}

// IsOpaque reports whether the directory at path carries the
// trusted.overlay.opaque="y" xattr (reading trusted.* needs CAP_SYS_ADMIN).
func IsOpaque(path string) (bool, error) {
	buf := make([]byte, 8)
	n, err := unix.Lgetxattr(path, OpaqueXattr, buf)
	switch {
	case errors.Is(err, unix.ENODATA), errors.Is(err, unix.ENOTSUP):
		return false, nil
	case err != nil:
		return false, &os.PathError{Op: "getxattr " + OpaqueXattr, Path: path, Err: err}
	}
	return string(buf[:n]) == "y", nil
}

// SetOpaque marks the directory at path opaque, as overlayfs does when a
// lower directory is removed and made again in the merged view.
func SetOpaque(path string) error {
	if err := unix.Lsetxattr(path, OpaqueXattr, []byte("y"), 0); err != nil {
		return &os.PathError{Op: "setxattr " + OpaqueXattr, Path: path, Err: err}
	}
	return nil
}

// MakeWhiteout creates a whiteout at path: mknod(path, S_IFCHR, 0/0).
func MakeWhiteout(path string) error {
	if err := unix.Mknod(path, unix.S_IFCHR, 0); err != nil {
		return &os.PathError{Op: "mknod whiteout", Path: path, Err: err}
	}
	return nil
}

// Diff lists what the upper dir of l changed compared with its lower
// layers, like `docker diff`: whiteouts are deletions, files that also
// exist below are modifications (they were copied up), the rest are
// additions. Below an opaque directory, every entry the lower layers had
// is reported deleted. Changes are sorted by path.
//
// Diff reads the directories directly; the overlay need not be mounted.
func Diff(l Layers) ([]Change, error) {
	if l.Upper == "" {
		return nil, errors.New("overlay: diff needs an upper dir")
	}
	var changes []Change
	var opaqueDirs []string // below these, the lower layers do not count
	err := filepath.WalkDir(l.Upper, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(l.Upper, path)
		if rel == "." {
			return nil
		}
		name := "/" + filepath.ToSlash(rel)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if IsWhiteout(fi) {
			changes = append(changes, Change{Kind: Deleted, Path: name})
			return nil
		}
		below := !underAny(opaqueDirs, rel) && inLower(l.Lower, rel)
		c := Change{Kind: Added, Path: name}
		if below {
			c.Kind = Modified
		}
		if d.IsDir() {
			opaque, err := IsOpaque(path)
			if err != nil {
				return err
			}
			c.Opaque = opaque
			if opaque {
				opaqueDirs = append(opaqueDirs, rel)
				hidden, err := lowerChildren(l.Lower, rel, path)
				if err != nil {
					return err
				}
				for _, h := range hidden {
					changes = append(changes, Change{Kind: Deleted, Path: name + "/" + h})
				}
			}
		}
		changes = append(changes, c)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("diff %s: %w", l.Upper, err)
	}
	slices.SortFunc(changes, func(a, b Change) int { return strings.Compare(a.Path, b.Path) })
	return changes, nil
}

// underAny reports whether rel is strictly inside one of dirs.
func underAny(dirs []string, rel string) bool {
	for _, d := range dirs {
		if strings.HasPrefix(rel, d+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// inLower reports whether rel exists in any lower layer.
func inLower(lower []string, rel string) bool {
	for _, dir := range lower {
		if _, err := os.Lstat(filepath.Join(dir, rel)); err == nil {
			return true
		}
	}
	return false
}

// lowerChildren lists the names the lower layers have in directory rel
// that the opaque upper directory does not have again: those the opaque
// mark hides.
func lowerChildren(lower []string, rel, upperDir string) ([]string, error) {
	seen := map[string]bool{}
	for _, dir := range lower {
		entries, err := os.ReadDir(filepath.Join(dir, rel))
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ENOTDIR) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			seen[e.Name()] = true
		}
	}
	var hidden []string
	for n := range seen {
		if _, err := os.Lstat(filepath.Join(upperDir, n)); err != nil {
			hidden = append(hidden, n)
		}
	}
	return hidden, nil
}

// DeviceNumbers returns the major and minor numbers of a device file (a
// whiteout is 0, 0).
func DeviceNumbers(fi fs.FileInfo) (major, minor uint32, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || fi.Mode()&fs.ModeDevice == 0 {
		return 0, 0, false
	}
	return unix.Major(uint64(st.Rdev)), unix.Minor(uint64(st.Rdev)), true
}
