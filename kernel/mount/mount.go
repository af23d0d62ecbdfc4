package mount

import (
	"fmt"
	"slices"
	"strings"
)

// Mount is one mount(2) call as a value: what `mount -t FSType -o Data
// Source Target` does. Flags are the MS_* flags of mount(2).
type Mount struct {
	Source string // "tmpfs", "proc", a device, or the directory of a bind mount
	Target string // the mount point: an existing directory
	FSType string // "tmpfs", "proc", "overlay"; empty for bind and propagation changes
	Flags  uintptr
	Data   string // filesystem options: "size=16m,mode=755"
}

// Error is a failed mount or unmount. It unwraps to the errno, so
// errors.Is(err, unix.EBUSY) works.
type Error struct {
	Op     string // "mount", "unmount", "make-private", ...
	Source string
	Target string
	FSType string
	Flags  uintptr
	Data   string
	Err    error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	if e.FSType != "" {
		b.WriteString(" -t " + e.FSType)
	}
	if e.Source != "" {
		b.WriteString(" " + e.Source)
	}
	b.WriteString(" " + e.Target)
	if e.Data != "" {
		b.WriteString(" (" + e.Data + ")")
	}
	return fmt.Sprintf("%s: %v", b.String(), e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Propagation is what happens to mounts made under a mount point: do they
// appear in the other mount namespaces that share it (see
// mount_namespaces(7), "Shared subtrees").
type Propagation int

const (
	// Private: mount events neither leave nor enter. `mount --make-private`.
	Private Propagation = iota
	// Shared: mount events go to and come from every peer in the group.
	// `mount --make-shared`; systemd makes / shared at boot.
	Shared
	// Slave: mount events come from the master, none go back.
	// `mount --make-slave`.
	Slave
	// Unbindable: private, and it cannot be bind mounted.
	Unbindable
)

func (p Propagation) String() string {
	switch p {
	case Private:
		return "private"
	case Shared:
		return "shared"
	case Slave:
		return "slave"
	case Unbindable:
		return "unbindable"
	}
	return fmt.Sprintf("propagation(%d)", int(p))
}

// Under reports whether path is dir itself or lies below it, by path
// components: /a/bc is not under /a/b.
func Under(path, dir string) bool {
	dir = strings.TrimSuffix(dir, "/")
	return path == dir || strings.HasPrefix(path, dir+"/") || dir == ""
}

// Deepest orders mount points so that a mount comes before the mounts it
// sits on: the order to unmount them in. Among mounts at the same point,
// the later one in mountinfo (the one on top) comes first.
func Deepest(points []string) []string {
	out := slices.Clone(points)
	slices.Reverse(out)
	slices.SortStableFunc(out, func(a, b string) int { return depth(b) - depth(a) })
	return out
}

func depth(p string) int { return strings.Count(strings.TrimSuffix(p, "/"), "/") }
