package probe

import (
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"github.com/lab-edu/lab/kernel/procfs"
)

// Mounts reads the mount table of pid ("self" for the checker's own).
func Mounts(fsys fs.FS, pid string) ([]procfs.Mount, error) {
	m, err := procfs.ReadMountInfo(fsys, pid)
	if err != nil {
		return nil, fmt.Errorf("read mounts of %s: %w", pid, err)
	}
	return m, nil
}

// MountsOf reads the mount table of process p.
func MountsOf(fsys fs.FS, p Process) ([]procfs.Mount, error) {
	return Mounts(fsys, strconv.Itoa(p.PID))
}

// MountedAt returns the topmost mount at point, if any.
func MountedAt(mounts []procfs.Mount, point string) (procfs.Mount, bool) {
	return procfs.Find(mounts, path.Clean(point))
}

// Describe is a mount in one line, as findmnt would show it.
func Describe(m procfs.Mount) string {
	return fmt.Sprintf("%s on %s (%s, %s, root %s)", m.Source, m.Point, m.FSType, m.Propagation(), m.Root)
}

// Origin is where a directory lives: its file system (device numbers) and
// its path from that file system's root. It is what mountinfo shows in
// the "root" field of a mount of that directory, in any namespace.
type Origin struct {
	Major, Minor int
	Root         string
}

func (o Origin) String() string { return fmt.Sprintf("%d:%d %s", o.Major, o.Minor, o.Root) }

// Matches reports whether m mounts exactly this directory.
func (o Origin) Matches(m procfs.Mount) bool {
	return m.Major == o.Major && m.Minor == o.Minor && path.Clean(m.Root) == o.Root
}

// OriginOf finds, in mounts (a namespace where dir is reachable), the
// mount that holds dir and where dir lives inside its file system.
func OriginOf(mounts []procfs.Mount, dir string) (Origin, error) {
	dir = path.Clean(dir)
	best := -1
	for i, m := range mounts {
		if under(dir, m.Point) && (best < 0 || len(m.Point) >= len(mounts[best].Point)) {
			best = i
		}
	}
	if best < 0 {
		return Origin{}, fmt.Errorf("no mount holds %s", dir)
	}
	m := mounts[best]
	rest := strings.TrimPrefix(dir, strings.TrimSuffix(m.Point, "/"))
	return Origin{Major: m.Major, Minor: m.Minor, Root: path.Clean(m.Root + "/" + rest)}, nil
}

// under reports whether p is dir or below it.
func under(p, dir string) bool {
	return dir == "/" || p == dir || strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/")
}

// Under is exported for steps: whether p is dir or below it, by path
// components.
func Under(p, dir string) bool { return under(path.Clean(p), path.Clean(dir)) }

// Jail is the verdict on a process that should have pivoted into a rootfs.
type Jail struct {
	OK     bool
	Reason string // what is wrong, in system terms
	Hint   string
}

// PivotedInto decides, from the process's own mountinfo, whether its
// mount namespace has rootfs as its root mount and no longer has the
// host's root file system mounted anywhere. host is the checker's mount
// table (where rootfs is reachable).
//
// A plain chroot fails the first test: a chrooted process's mountinfo
// lists only the mounts below its root, and nothing is mounted at "/".
// A pivot_root without `umount -l` of the old root fails the second.
func PivotedInto(theirs, host []procfs.Mount, p Process, rootfs string) Jail {
	want, err := OriginOf(host, rootfs)
	if err != nil {
		return Jail{Reason: err.Error()}
	}
	hostRoot, ok := MountedAt(host, "/")
	if !ok {
		return Jail{Reason: "the checker's mount table has no root mount"}
	}
	top, ok := MountedAt(theirs, "/")
	switch {
	case !ok:
		return Jail{
			Reason: fmt.Sprintf("%s has no mount at its / : it is chrooted into a directory, its root is not a mount of %s", p, rootfs),
			Hint:   "chroot only changes where / starts; bind " + rootfs + " onto itself in a new mount namespace and pivot_root into it",
		}
	case !want.Matches(top):
		return Jail{
			Reason: fmt.Sprintf("%s has %s at its /, not %s (%s)", p, Describe(top), rootfs, want),
			Hint:   "cd " + rootfs + " && pivot_root . old_root, in the mount namespace unshare -m gave you",
		}
	}
	for _, m := range theirs {
		if m.Major == hostRoot.Major && m.Minor == hostRoot.Minor && path.Clean(m.Root) == path.Clean(hostRoot.Root) {
			return Jail{
				Reason: fmt.Sprintf("%s still has the host's root file system mounted at %s (%s %s): the old root is reachable", p, m.Point, m.FSType, m.Source),
				Hint:   "inside the jail, detach it: umount -l " + m.Point,
			}
		}
	}
	return Jail{OK: true}
}
