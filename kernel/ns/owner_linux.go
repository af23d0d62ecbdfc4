package ns

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Owner returns the user namespace that owns process pid's namespace of
// kind: the user namespace its creator was in. Capabilities over a
// namespace come from the owning user namespace, which is why root of a
// user namespace may mount in a mount namespace it created, and nowhere
// else. It uses the NS_GET_USERNS ioctl on /proc/PID/ns/KIND (Linux 4.9).
func Owner(pid int, kind Kind) (ID, error) {
	path := fmt.Sprintf("/proc/%d/ns/%s", pid, kind)
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return ID{}, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	owner, err := unix.IoctlRetInt(fd, unix.NS_GET_USERNS)
	if err != nil {
		return ID{}, &os.PathError{Op: "ioctl NS_GET_USERNS", Path: path, Err: err}
	}
	defer unix.Close(owner)
	var st unix.Stat_t
	if err := unix.Fstat(owner, &st); err != nil {
		return ID{}, fmt.Errorf("stat owner of %s: %w", path, err)
	}
	return ID{Kind: User, Dev: st.Dev, Inode: st.Ino}, nil
}
