package procfs

import (
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
)

// Pids lists the processes visible in fsys's /proc, in ascending order.
func Pids(fsys fs.FS) ([]int, error) {
	entries, err := fs.ReadDir(fsys, "proc")
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, pid)
		}
	}
	slices.Sort(pids)
	return pids, nil
}

// Root returns where /proc/PID/root points: the process's root directory
// as the kernel resolves it from the reader's root ("/" for most
// processes, the rootfs path for a chrooted one).
func Root(fsys fs.FS, pid int) (string, error) {
	return fs.ReadLink(fsys, fmt.Sprintf("proc/%d/root", pid))
}

// Cwd returns where /proc/PID/cwd points.
func Cwd(fsys fs.FS, pid int) (string, error) {
	return fs.ReadLink(fsys, fmt.Sprintf("proc/%d/cwd", pid))
}

// Exe returns where /proc/PID/exe points (empty for kernel threads).
func Exe(fsys fs.FS, pid int) (string, error) {
	return fs.ReadLink(fsys, fmt.Sprintf("proc/%d/exe", pid))
}

// Cmdline returns the process's arguments (NUL-separated in the file).
func Cmdline(fsys fs.FS, pid int) ([]string, error) {
	b, err := fs.ReadFile(fsys, fmt.Sprintf("proc/%d/cmdline", pid))
	if err != nil {
		return nil, err
	}
	s := strings.TrimRight(string(b), "\x00")
	if s == "" {
		return nil, nil
	}
	return strings.Split(s, "\x00"), nil
}

// Comm returns the process's command name (at most 15 bytes).
func Comm(fsys fs.FS, pid int) (string, error) {
	b, err := fs.ReadFile(fsys, fmt.Sprintf("proc/%d/comm", pid))
	return strings.TrimSpace(string(b)), err
}

// NsLink returns the /proc/PID/ns/KIND link text, "uts:[4026531838]": the
// namespace type and the inode number of its nsfs file, which is the
// namespace's identity.
func NsLink(fsys fs.FS, pid int, kind string) (string, error) {
	return fs.ReadLink(fsys, fmt.Sprintf("proc/%d/ns/%s", pid, kind))
}

// NsInode extracts the inode from a namespace link ("uts:[4026531838]").
func NsInode(link string) (uint64, error) {
	_, rest, ok := strings.Cut(link, ":[")
	num, ok2 := strings.CutSuffix(rest, "]")
	if !ok || !ok2 {
		return 0, fmt.Errorf("parse namespace link %q: want kind:[inode]", link)
	}
	return strconv.ParseUint(num, 10, 64)
}
