package cgroup

import (
	"fmt"
	"path"
	"strings"
)

// Version is the cgroup hierarchy version a machine uses.
type Version int

const (
	// V1 has one hierarchy per controller (/sys/fs/cgroup/memory, ...).
	// Hybrid hosts count as V1: their controllers live in the v1 trees,
	// even when an (often empty) cgroup2 is mounted at .../unified.
	V1 Version = 1
	// V2 is the unified hierarchy: one tree, every controller in it.
	V2 Version = 2
)

func (v Version) String() string { return fmt.Sprintf("cgroup v%d", int(v)) }

// DefaultRoot is where systemd and Debian mount the cgroup filesystems.
const DefaultRoot = "/sys/fs/cgroup"

// Controllers the lab uses. In v1 each is a directory below the root
// (on many hosts cpu and cpuacct are one mount, cpu,cpuacct, with
// symbolic links of both names). In v2 they are all in one tree.
const (
	Memory  = "memory"
	CPU     = "cpu"
	CPUAcct = "cpuacct"
	Pids    = "pids"
	Freezer = "freezer"
	Cpuset  = "cpuset"
)

// Hierarchy is a cgroup tree of one version mounted at Root.
type Hierarchy struct {
	Version Version
	Root    string // DefaultRoot on a real host; v2: the cgroup2 mount itself
}

// File is one control file, named in both versions. Controller is the v1
// hierarchy the file lives in.
type File struct {
	Controller string
	V1, V2     string
}

// The control files the lab reads and writes. Where v1 and v2 differ in
// meaning (not only in name), the comment says how.
var (
	MemoryLimit = File{Memory, "memory.limit_in_bytes", "memory.max"}
	// SwapLimit: v1 memory.memsw.limit_in_bytes caps memory PLUS swap, so
	// "no swap" is memsw = limit; v2 memory.swap.max caps swap alone, so
	// "no swap" is 0.
	SwapLimit   = File{Memory, "memory.memsw.limit_in_bytes", "memory.swap.max"}
	MemoryUsage = File{Memory, "memory.usage_in_bytes", "memory.current"}
	// OOMEvents has the oom_kill counter: "oom_kill N" in both files.
	OOMEvents = File{Memory, "memory.oom_control", "memory.events"}
	// CPUQuota: v1 splits quota and period in two files of microseconds
	// (-1 is no quota); v2 has both in cpu.max: "QUOTA PERIOD" or "max PERIOD".
	CPUQuota  = File{CPU, "cpu.cfs_quota_us", "cpu.max"}
	CPUPeriod = File{CPU, "cpu.cfs_period_us", "cpu.max"}
	// CPUWeight: v1 cpu.shares (2..262144, default 1024); v2 cpu.weight
	// (1..10000, default 100). Both are relative, used only under contention.
	CPUWeight = File{CPU, "cpu.shares", "cpu.weight"}
	// CPUStat has nr_periods, nr_throttled and the throttled time
	// (v1 throttled_time in ns, v2 throttled_usec) and, in v2, usage_usec.
	CPUStat = File{CPU, "cpu.stat", "cpu.stat"}
	// CPUUsage: v1 cpuacct.usage is nanoseconds; v2 reads usage_usec of cpu.stat.
	CPUUsage = File{CPUAcct, "cpuacct.usage", "cpu.stat"}
	// CPUs: the CPUs the group's tasks may run on ("0-1,3"). v2 shows
	// what is in effect in cpuset.cpus.effective.
	CPUs        = File{Cpuset, "cpuset.cpus", "cpuset.cpus"}
	PidsMax     = File{Pids, "pids.max", "pids.max"}
	PidsCurrent = File{Pids, "pids.current", "pids.current"}
	// PidsEvents counts forks refused at the limit: "max N".
	PidsEvents = File{Pids, "pids.events", "pids.events"}
	// FreezeState: v1 freezer.state is THAWED, FREEZING or FROZEN; v2
	// cgroup.freeze is 0 or 1 (what was asked) and cgroup.events has
	// "frozen 0|1" (what is done).
	FreezeState = File{Freezer, "freezer.state", "cgroup.freeze"}
)

// Procs is the file listing a group's processes, in the hierarchy of
// controller (v1) or the one tree (v2). Writing a PID to it moves that
// process, with all its threads, into the group.
func Procs(controller string) File { return File{controller, "cgroup.procs", "cgroup.procs"} }

// Name is the file's name in this hierarchy's version.
func (h Hierarchy) Name(f File) string {
	if h.Version == V2 {
		return f.V2
	}
	return f.V1
}

// Dir is the directory of group in the hierarchy of controller. group is
// a path below the root ("lab-mem" or "lab-mem/child"); controller is
// ignored on v2.
func (h Hierarchy) Dir(controller, group string) string {
	group = strings.Trim(group, "/")
	if h.Version == V2 {
		return path.Join(h.Root, group)
	}
	return path.Join(h.Root, controller, group)
}

// Path is the absolute path of file f of group.
func (h Hierarchy) Path(f File, group string) string {
	return path.Join(h.Dir(f.Controller, group), h.Name(f))
}

// Label names a file for messages: "memory.max (cgroup v2)".
func (h Hierarchy) Label(f File) string { return h.Name(f) + " (" + h.Version.String() + ")" }

// fileError wraps err with the file name and version, as every error of
// this package that is about a control file does.
func (h Hierarchy) fileError(f File, group string, err error) error {
	return fmt.Errorf("%s of %s: %w", h.Label(f), group, err)
}
