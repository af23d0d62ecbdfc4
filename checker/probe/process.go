package probe

import (
	"fmt"
	"io/fs"
	"os"
	"strconv"

	"github.com/lab-edu/lab/kernel/procfs"
)

// Process is what probes know about one process.
type Process struct {
	PID   int
	Comm  string
	Root  string // readlink /proc/PID/root, seen from the checker's root
	MntNS string // readlink /proc/PID/ns/mnt: "mnt:[4026531841]"
}

func (p Process) String() string { return fmt.Sprintf("PID %d (%s)", p.PID, p.Comm) }

// Processes lists the user processes visible in fsys's /proc. Kernel
// threads (no exe link) and processes that end while we read are left out.
func Processes(fsys fs.FS) ([]Process, error) {
	pids, err := procfs.Pids(fsys)
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	var out []Process
	for _, pid := range pids {
		if _, err := procfs.Exe(fsys, pid); err != nil {
			continue
		}
		p := Process{PID: pid}
		p.Comm, _ = procfs.Comm(fsys, pid)
		if p.Root, err = procfs.Root(fsys, pid); err != nil {
			continue
		}
		p.MntNS, _ = procfs.NsLink(fsys, pid, "mnt")
		out = append(out, p)
	}
	return out, nil
}

// Find returns the processes for which match is true.
func Find(fsys fs.FS, match func(Process) bool) ([]Process, error) {
	all, err := Processes(fsys)
	if err != nil {
		return nil, err
	}
	var out []Process
	for _, p := range all {
		if match(p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// SelfMntNS is the mount namespace of the checker itself: the host's, as
// far as the learner's shell is concerned.
func SelfMntNS(fsys fs.FS) (string, error) {
	return fs.ReadLink(fsys, "proc/self/ns/mnt")
}

// RootIs reports whether p's root directory is dir. readlink of
// /proc/PID/root names it for a chroot in our mount namespace; for a root
// in another namespace (after pivot_root) the text is not a path of ours,
// so the directories are compared by device and inode as well.
func RootIs(fsys fs.FS, p Process, dir string) bool {
	if p.Root == dir {
		return true
	}
	a, err := fs.Stat(fsys, "proc/"+strconv.Itoa(p.PID)+"/root")
	if err != nil {
		return false
	}
	b, err := fs.Stat(fsys, Rel(dir))
	if err != nil {
		return false
	}
	return os.SameFile(a, b)
}

// WithRoot returns the processes whose root directory is dir.
func WithRoot(fsys fs.FS, dir string) ([]Process, error) {
	return Find(fsys, func(p Process) bool { return RootIs(fsys, p, dir) })
}

// InOtherMntNS returns the processes whose mount namespace is not the
// checker's.
func InOtherMntNS(fsys fs.FS) ([]Process, error) {
	self, err := SelfMntNS(fsys)
	if err != nil {
		return nil, fmt.Errorf("read own mount namespace: %w", err)
	}
	return Find(fsys, func(p Process) bool { return p.MntNS != "" && p.MntNS != self })
}
