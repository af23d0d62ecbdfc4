package image

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/lab-edu/lab/kernel/overlay"
	"github.com/lab-edu/lab/kernel/procfs"
)

// errNotEmpty is what rename(2) returns when the target directory exists:
// another load unpacked the same layer first, which is fine.
var errNotEmpty = unix.ENOTEMPTY

// lock takes an exclusive flock(2) on ROOT/lock so two lab commands never
// change the store at the same time. The lock goes when the process dies.
func (s *Store) lock() (func(), error) {
	f, err := os.OpenFile(s.path("lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock image store: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock image store: %w", err)
	}
	return func() { f.Close() }, nil
}

// mountedLowerDirs lists the lower dirs of every overlay mounted in this
// mount namespace: layers a container still uses must not be deleted.
func mountedLowerDirs() map[string]bool {
	out := map[string]bool{}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return out
	}
	defer f.Close()
	mounts, _ := procfs.ParseMountInfo(f)
	for _, m := range mounts {
		if m.FSType == "overlay" {
			for _, dir := range overlay.ParseOptions(m.SuperOptions).Lower {
				out[dir] = true
			}
		}
	}
	return out
}
