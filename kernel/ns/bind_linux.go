package ns

import (
	"errors"

	"github.com/lab-edu/lab/kernel/mount"
)

// UnbindAll unmounts every namespace file bind-mounted at or below dir.
// `unshare --uts=FILE` (or `ip netns add`) keeps a namespace alive with no
// process in it by bind-mounting its /proc/PID/ns file on FILE (the mount
// has type nsfs); the namespace ends when the last such mount and the
// last process are gone.
//
// Equivalent to: umount FILE, for each nsfs mount under dir.
func UnbindAll(dir string) error {
	if dir == "" || dir == "/" {
		return errors.New("ns: refusing to unbind every namespace file on the machine: give a directory")
	}
	mounts, err := mount.Mounts()
	if err != nil {
		return err
	}
	var errs []error
	for i := len(mounts) - 1; i >= 0; i-- {
		if m := mounts[i]; m.FSType == "nsfs" && mount.Under(m.Point, dir) {
			errs = append(errs, mount.Unmount(m.Point))
		}
	}
	return errors.Join(errs...)
}
