package ns

import (
	"fmt"
	"io/fs"
	"strings"

	"github.com/lab-edu/lab/kernel/procfs"
)

// ID identifies one namespace. The kernel gives each namespace an inode on
// the internal nsfs filesystem; /proc/PID/ns/KIND is a link to it, so two
// processes share a namespace exactly when stat(2) of their links returns
// the same device and inode (what `readlink /proc/PID/ns/uts` prints as
// uts:[4026531838] is that inode).
type ID struct {
	Kind  Kind   `json:"type"`
	Dev   uint64 `json:"dev"` // the nsfs device; 0 when only the link could be read
	Inode uint64 `json:"ns"`
}

// String prints the ID the way the /proc/PID/ns link does: "uts:[4026531838]".
func (id ID) String() string { return fmt.Sprintf("%s:[%d]", id.Kind, id.Inode) }

// Equal compares two IDs. The device is compared only when both are known.
func (id ID) Equal(o ID) bool {
	if id.Kind != o.Kind || id.Inode != o.Inode {
		return false
	}
	return id.Dev == 0 || o.Dev == 0 || id.Dev == o.Dev
}

// Of returns the namespace of kind that process pid is in, read from
// proc/PID/ns/KIND in fsys (rooted at "/"). On the live host it stats the
// link; on a fake filesystem it parses the link text.
func Of(fsys fs.FS, pid int, kind Kind) (ID, error) {
	return ofPath(fsys, fmt.Sprintf("proc/%d/ns/%s", pid, kind), kind)
}

// ForChildren returns the PID namespace that pid's next children will be
// born in (/proc/PID/ns/pid_for_children). It differs from Of(pid, PID)
// after `unshare --pid` without --fork.
func ForChildren(fsys fs.FS, pid int) (ID, error) {
	return ofPath(fsys, fmt.Sprintf("proc/%d/ns/pid_for_children", pid), PID)
}

func ofPath(fsys fs.FS, path string, kind Kind) (ID, error) {
	link, err := fs.ReadLink(fsys, path)
	if err != nil {
		return ID{}, err
	}
	name, _, _ := strings.Cut(link, ":")
	if name != string(kind) {
		return ID{}, fmt.Errorf("ns: %s links to %q, not a %s namespace", path, link, kind)
	}
	ino, err := procfs.NsInode(link)
	if err != nil {
		return ID{}, err
	}
	id := ID{Kind: kind, Inode: ino}
	if dev, sino, ok := statDevIno(fsys, path); ok && sino == ino {
		id.Dev = dev
	}
	return id, nil
}

// Same reports whether processes a and b share their namespace of kind.
func Same(fsys fs.FS, a, b int, kind Kind) (bool, error) {
	ia, err := Of(fsys, a, kind)
	if err != nil {
		return false, err
	}
	ib, err := Of(fsys, b, kind)
	if err != nil {
		return false, err
	}
	return ia.Equal(ib), nil
}

// HostPID returns the process whose namespaces are "the host's": PID 1,
// the init system. Where PID 1's links cannot be read (a sandbox where
// init holds capabilities we lack, so the kernel's ptrace access check
// refuses), it falls back to PID 2, kthreadd: every kernel thread is born
// in the initial namespaces.
func HostPID(fsys fs.FS) int {
	if _, err := fs.ReadLink(fsys, "proc/1/ns/uts"); err == nil {
		return 1
	}
	if comm, _ := procfs.Comm(fsys, 2); comm == "kthreadd" {
		return 2
	}
	return 1
}

// Host returns the host's namespace of kind (see HostPID).
func Host(fsys fs.FS, kind Kind) (ID, error) {
	return Of(fsys, HostPID(fsys), kind)
}

// SameAsHost reports whether pid is in the host's namespace of kind.
func SameAsHost(fsys fs.FS, pid int, kind Kind) (bool, error) {
	host, err := Host(fsys, kind)
	if err != nil {
		return false, fmt.Errorf("read host %s namespace: %w", kind, err)
	}
	id, err := Of(fsys, pid, kind)
	if err != nil {
		return false, err
	}
	return id.Equal(host), nil
}
