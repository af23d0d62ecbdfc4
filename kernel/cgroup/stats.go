package cgroup

import (
	"io/fs"
	"slices"
	"strings"

	"github.com/lab-edu/lab/kernel/procfs"
)

// Value is one control file's content, for display: the file name of the
// version in use and what it holds.
type Value struct {
	File  string `json:"file"`
	Value string `json:"value"`
}

// Stats is what `lab cgroup show` prints of one group: its limits and
// usage, each under the file name of the version in use. A file that does
// not exist (controller not enabled, not in this v1 hierarchy) is left out.
type Stats struct {
	Group   string  `json:"group"`
	Version string  `json:"version"`
	Procs   []int   `json:"procs"`
	Values  []Value `json:"values"`
}

// showFiles are the files Stats lists, in order.
var showFiles = []File{
	MemoryLimit, SwapLimit, MemoryUsage, OOMEvents,
	CPUQuota, CPUPeriod, CPUWeight, CPUStat, CPUUsage,
	CPUs, PidsMax, PidsCurrent, PidsEvents, FreezeState,
}

// ReadStats reads every control file the lab knows of group, or only those
// of the given v1 controllers. On v1 the group may exist in some
// hierarchies only; the files of the others are left out.
func (h Hierarchy) ReadStats(fsys fs.FS, group string, controllers ...string) Stats {
	if len(controllers) == 0 || h.Version == V2 {
		controllers = h.controllers()
	}
	st := Stats{Group: "/" + strings.Trim(group, "/"), Version: h.Version.String()}
	seen := map[string]bool{}
	for _, f := range showFiles {
		if h.Version == V1 && !slices.Contains(controllers, f.Controller) {
			continue
		}
		p := h.Path(f, group)
		if seen[p] {
			continue // v2 cpu.max stands for both quota and period
		}
		seen[p] = true
		s, err := h.read(fsys, f, group)
		if err != nil {
			continue
		}
		st.Values = append(st.Values, Value{File: p, Value: s})
	}
	for _, c := range controllers {
		pids, err := h.ReadProcs(fsys, c, group)
		if err == nil {
			st.Procs = append(st.Procs, pids...)
		}
	}
	slices.Sort(st.Procs)
	st.Procs = slices.Compact(st.Procs)
	return st
}

// controllers are the hierarchies to look in: every controller the lab
// uses on v1, the one tree on v2.
func (h Hierarchy) controllers() []string {
	if h.Version == V2 {
		return []string{""}
	}
	return []string{Memory, CPU, CPUAcct, Pids, Freezer, Cpuset}
}

// Membership is the group a process is in, per hierarchy.
type Membership struct {
	Controller string `json:"controller,omitempty"` // "" on v2
	Group      string `json:"group"`                // "/lab-mem"
}

// GroupsOf picks, from a process's /proc/PID/cgroup, the groups of the
// hierarchies this package knows: one line per v1 controller the lab uses,
// or the single "0::/path" line on v2.
func (h Hierarchy) GroupsOf(entries []procfs.CgroupEntry) []Membership {
	var out []Membership
	for _, e := range entries {
		if h.Version == V2 {
			if e.ID == 0 && len(e.Controllers) == 0 {
				out = append(out, Membership{Group: e.Path})
			}
			continue
		}
		for _, c := range e.Controllers {
			if slices.Contains(h.controllers(), c) {
				out = append(out, Membership{Controller: c, Group: e.Path})
			}
		}
	}
	slices.SortFunc(out, func(a, b Membership) int { return strings.Compare(a.Controller, b.Controller) })
	return out
}
