// Package nslab holds four namespace labs: uts (a hostname only the
// namespace sees), pid (PID 1, its own /proc, nesting, the death of
// init), user (root inside, nobody outside, and what that root may do)
// and ipc (System V objects per IPC namespace).
//
// Checks find the student's processes by their properties, never by a PID
// file: the UTS lab by the hostname its namespace reports, the other labs
// by "a process in a namespace of its own whose working directory is the
// lab's workspace". The workspace is the lab's name for its processes:
// the lesson starts every command from it, and Cleanup and Reset kill
// exactly those processes.
package nslab

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/kernel/ns"
	"github.com/lab-edu/lab/kernel/procfs"
)

// proc is a process the checker looks at.
type proc struct {
	PID  int
	Comm string
	Cwd  string
}

func (p proc) String() string { return fmt.Sprintf("PID %d (%s)", p.PID, p.Comm) }

// workDir is the lab's workspace on the host h.
func workDir(h checker.Host, lab string) string { return filepath.Join(h.Workspace(), lab) }

// under reports whether path is dir or below it.
func under(path, dir string) bool {
	return path == dir || strings.HasPrefix(path, strings.TrimSuffix(dir, "/")+"/")
}

// marked lists the processes whose working directory is dir or below.
func marked(fsys fs.FS, dir string) []proc {
	pids, err := procfs.Pids(fsys)
	if err != nil {
		return nil
	}
	var out []proc
	for _, pid := range pids {
		cwd, err := procfs.Cwd(fsys, pid)
		if err != nil || !under(cwd, dir) {
			continue
		}
		comm, _ := procfs.Comm(fsys, pid)
		out = append(out, proc{PID: pid, Comm: comm, Cwd: cwd})
	}
	return out
}

// isolated lists the marked processes whose namespace of kind is not the
// host's, grouped by namespace in the order first seen.
func isolated(fsys fs.FS, dir string, kind ns.Kind) ([]ns.ID, map[ns.ID][]proc) {
	host, err := ns.Host(fsys, kind)
	if err != nil {
		return nil, nil
	}
	var ids []ns.ID
	by := map[ns.ID][]proc{}
	for _, p := range marked(fsys, dir) {
		id, err := ns.Of(fsys, p.PID, kind)
		if err != nil || id.Equal(host) {
			continue
		}
		if _, seen := by[id]; !seen {
			ids = append(ids, id)
		}
		by[id] = append(by[id], p)
	}
	return ids, by
}

// killMarked kills the processes started from dir that are in a namespace
// of one of kinds other than the host's (or, for PID, whose children go to
// another PID namespace). It never touches a process in the host's
// namespaces, such as the student's own shell sitting in the workspace.
func killMarked(dir string, kinds ...ns.Kind) error {
	fsys := hostFS()
	var victims []int
	for _, p := range marked(fsys, dir) {
		for _, k := range kinds {
			if other(fsys, p.PID, k) {
				victims = append(victims, p.PID)
				break
			}
		}
	}
	return ns.KillAndWait(5*time.Second, victims...)
}

func other(fsys fs.FS, pid int, kind ns.Kind) bool {
	host, err := ns.Host(fsys, kind)
	if err != nil {
		return false
	}
	if id, err := ns.Of(fsys, pid, kind); err == nil && !id.Equal(host) {
		return true
	}
	if kind == ns.PID && childrenElsewhere(fsys, pid, host) {
		return true
	}
	return false
}
