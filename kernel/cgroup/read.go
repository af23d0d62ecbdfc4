package cgroup

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Limit is a limit value: a number, or no limit ("max" in v2, a huge
// number in v1).
type Limit struct {
	Max   bool   // no limit
	Value uint64 // the limit when !Max
}

// v1Unlimited: v1 shows "no limit" as the largest page-aligned counter
// (9223372036854771712 with 4 KiB pages, PAGE_COUNTER_MAX * PAGE_SIZE); any
// value this large means no limit.
const v1Unlimited = 1 << 62

func (l Limit) String() string {
	if l.Max {
		return "max"
	}
	return strconv.FormatUint(l.Value, 10)
}

// ParseLimit parses a limit file's content: "max", "-1" (v1 pids and
// quota), a v1 near-2^63 value, or a number.
func ParseLimit(s string) (Limit, error) {
	s = strings.TrimSpace(s)
	if s == "max" || s == "-1" {
		return Limit{Max: true}, nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return Limit{}, fmt.Errorf("parse limit %q: want a number or max", s)
	}
	if v >= v1Unlimited {
		return Limit{Max: true}, nil
	}
	return Limit{Value: v}, nil
}

// ParseKeyed parses a flat-keyed file ("key value" per line), as
// memory.events, memory.oom_control, cpu.stat, pids.events and
// cgroup.events are.
func ParseKeyed(r io.Reader) (map[string]uint64, error) {
	out := map[string]uint64{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) != 2 {
			return nil, fmt.Errorf("parse line %q: want KEY VALUE", sc.Text())
		}
		v, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("parse line %q: %w", sc.Text(), err)
		}
		out[f[0]] = v
	}
	return out, sc.Err()
}

// CPUMax is a CFS bandwidth limit: the group may run Quota microseconds of
// CPU time in every Period microseconds, summed over all CPUs. Quota -1
// means no limit.
type CPUMax struct {
	Quota  int64
	Period uint64
}

// Limited reports whether a quota is set.
func (c CPUMax) Limited() bool { return c.Quota >= 0 }

// CPUs is the quota as a number of CPUs (0.2 is 20% of one CPU), or 0
// without a quota.
func (c CPUMax) CPUs() float64 {
	if !c.Limited() || c.Period == 0 {
		return 0
	}
	return float64(c.Quota) / float64(c.Period)
}

func (c CPUMax) String() string {
	if !c.Limited() {
		return fmt.Sprintf("max %d", c.Period)
	}
	return fmt.Sprintf("%d %d", c.Quota, c.Period)
}

// ParseCPUMax parses v2 cpu.max: "QUOTA PERIOD" or "max PERIOD".
func ParseCPUMax(s string) (CPUMax, error) {
	f := strings.Fields(s)
	if len(f) != 2 {
		return CPUMax{}, fmt.Errorf("parse cpu.max %q: want QUOTA PERIOD", s)
	}
	period, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		return CPUMax{}, fmt.Errorf("parse cpu.max %q: %w", s, err)
	}
	if f[0] == "max" {
		return CPUMax{Quota: -1, Period: period}, nil
	}
	quota, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return CPUMax{}, fmt.Errorf("parse cpu.max %q: %w", s, err)
	}
	return CPUMax{Quota: quota, Period: period}, nil
}

// Throttling is what CFS bandwidth control reports in cpu.stat.
type Throttling struct {
	Periods   uint64        // enforcement periods with runnable tasks
	Throttled uint64        // periods in which the group used its whole quota
	Time      time.Duration // total time the group's tasks were held back
}

// Freezer states, as v1 freezer.state spells them. v2 values are mapped to
// these.
const (
	Thawed   = "THAWED"
	Freezing = "FREEZING"
	Frozen   = "FROZEN"
)

// rel turns an absolute path into an fs.FS path.
func rel(p string) string { return strings.TrimPrefix(path.Clean(p), "/") }

func (h Hierarchy) read(fsys fs.FS, f File, group string) (string, error) {
	b, err := fs.ReadFile(fsys, rel(h.Path(f, group)))
	if err != nil {
		return "", h.fileError(f, group, err)
	}
	return strings.TrimSpace(string(b)), nil
}

func (h Hierarchy) readLimit(fsys fs.FS, f File, group string) (Limit, error) {
	s, err := h.read(fsys, f, group)
	if err != nil {
		return Limit{}, err
	}
	l, err := ParseLimit(s)
	if err != nil {
		return Limit{}, h.fileError(f, group, err)
	}
	return l, nil
}

func (h Hierarchy) readUint(fsys fs.FS, f File, group string) (uint64, error) {
	s, err := h.read(fsys, f, group)
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, h.fileError(f, group, err)
	}
	return v, nil
}

func (h Hierarchy) readKeyed(fsys fs.FS, f File, group string) (map[string]uint64, error) {
	s, err := h.read(fsys, f, group)
	if err != nil {
		return nil, err
	}
	m, err := ParseKeyed(strings.NewReader(s))
	if err != nil {
		return nil, h.fileError(f, group, err)
	}
	return m, nil
}

// Exists reports whether group is a directory in the hierarchy of
// controller.
func (h Hierarchy) Exists(fsys fs.FS, controller, group string) bool {
	st, err := fs.Stat(fsys, rel(h.Dir(controller, group)))
	return err == nil && st.IsDir()
}

// ReadMemoryLimit reads memory.limit_in_bytes (v1) or memory.max (v2).
func (h Hierarchy) ReadMemoryLimit(fsys fs.FS, group string) (Limit, error) {
	return h.readLimit(fsys, MemoryLimit, group)
}

// ReadSwapLimit reads memory.memsw.limit_in_bytes (v1: memory plus swap)
// or memory.swap.max (v2: swap alone).
func (h Hierarchy) ReadSwapLimit(fsys fs.FS, group string) (Limit, error) {
	return h.readLimit(fsys, SwapLimit, group)
}

// ReadMemoryUsage reads memory.usage_in_bytes (v1) or memory.current (v2):
// the bytes charged to the group now (anonymous memory and page cache).
func (h Hierarchy) ReadMemoryUsage(fsys fs.FS, group string) (uint64, error) {
	return h.readUint(fsys, MemoryUsage, group)
}

// ReadOOMKills reads the oom_kill counter of memory.oom_control (v1) or
// memory.events (v2): how many processes of the group the OOM killer
// killed. (v2 memory.events counts the group and its descendants.)
func (h Hierarchy) ReadOOMKills(fsys fs.FS, group string) (uint64, error) {
	m, err := h.readKeyed(fsys, OOMEvents, group)
	if err != nil {
		return 0, err
	}
	v, ok := m["oom_kill"]
	if !ok {
		return 0, h.fileError(OOMEvents, group, errors.New("no oom_kill line (kernel older than 4.13?)"))
	}
	return v, nil
}

// ReadOOMKillDisabled reads oom_kill_disable of v1 memory.oom_control: 1
// makes the kernel pause a group's tasks at the limit instead of killing
// one. v2 has no such switch and always reports false.
func (h Hierarchy) ReadOOMKillDisabled(fsys fs.FS, group string) (bool, error) {
	if h.Version == V2 {
		return false, nil
	}
	m, err := h.readKeyed(fsys, OOMEvents, group)
	if err != nil {
		return false, err
	}
	return m["oom_kill_disable"] == 1, nil
}

// ReadCPUMax reads the CFS quota: cpu.cfs_quota_us and cpu.cfs_period_us
// (v1) or cpu.max (v2).
func (h Hierarchy) ReadCPUMax(fsys fs.FS, group string) (CPUMax, error) {
	if h.Version == V2 {
		s, err := h.read(fsys, CPUQuota, group)
		if err != nil {
			return CPUMax{}, err
		}
		c, err := ParseCPUMax(s)
		if err != nil {
			return CPUMax{}, h.fileError(CPUQuota, group, err)
		}
		return c, nil
	}
	qs, err := h.read(fsys, CPUQuota, group)
	if err != nil {
		return CPUMax{}, err
	}
	quota, err := strconv.ParseInt(qs, 10, 64)
	if err != nil {
		return CPUMax{}, h.fileError(CPUQuota, group, err)
	}
	period, err := h.readUint(fsys, CPUPeriod, group)
	if err != nil {
		return CPUMax{}, err
	}
	if quota < 0 {
		quota = -1
	}
	return CPUMax{Quota: quota, Period: period}, nil
}

// ReadCPUWeight reads cpu.shares (v1) or cpu.weight (v2).
func (h Hierarchy) ReadCPUWeight(fsys fs.FS, group string) (uint64, error) {
	return h.readUint(fsys, CPUWeight, group)
}

// ReadThrottling reads the throttling counters of cpu.stat.
func (h Hierarchy) ReadThrottling(fsys fs.FS, group string) (Throttling, error) {
	m, err := h.readKeyed(fsys, CPUStat, group)
	if err != nil {
		return Throttling{}, err
	}
	t := Throttling{Periods: m["nr_periods"], Throttled: m["nr_throttled"]}
	if h.Version == V2 {
		t.Time = time.Duration(m["throttled_usec"]) * time.Microsecond
	} else {
		t.Time = time.Duration(m["throttled_time"]) // nanoseconds
	}
	return t, nil
}

// ReadCPUUsage reads the CPU time the group's tasks used: cpuacct.usage
// (v1, nanoseconds) or usage_usec of cpu.stat (v2, microseconds).
func (h Hierarchy) ReadCPUUsage(fsys fs.FS, group string) (time.Duration, error) {
	if h.Version == V2 {
		m, err := h.readKeyed(fsys, CPUUsage, group)
		if err != nil {
			return 0, err
		}
		return time.Duration(m["usage_usec"]) * time.Microsecond, nil
	}
	ns, err := h.readUint(fsys, CPUUsage, group)
	return time.Duration(ns), err
}

// ReadCPUs reads cpuset.cpus: the CPUs the group may run on ("0-1,3").
func (h Hierarchy) ReadCPUs(fsys fs.FS, group string) (string, error) {
	return h.read(fsys, CPUs, group)
}

// ReadPidsMax reads pids.max.
func (h Hierarchy) ReadPidsMax(fsys fs.FS, group string) (Limit, error) {
	return h.readLimit(fsys, PidsMax, group)
}

// ReadPidsCurrent reads pids.current: tasks (processes and threads) in the
// group and its descendants.
func (h Hierarchy) ReadPidsCurrent(fsys fs.FS, group string) (uint64, error) {
	return h.readUint(fsys, PidsCurrent, group)
}

// ReadPidsRefused reads "max" of pids.events: how many fork(2) or
// clone(2) calls the pids limit refused (with EAGAIN).
func (h Hierarchy) ReadPidsRefused(fsys fs.FS, group string) (uint64, error) {
	m, err := h.readKeyed(fsys, PidsEvents, group)
	if err != nil {
		return 0, err
	}
	return m["max"], nil
}

// ReadFreezeState reads freezer.state (v1) or cgroup.freeze and
// cgroup.events (v2), as THAWED, FREEZING or FROZEN.
func (h Hierarchy) ReadFreezeState(fsys fs.FS, group string) (string, error) {
	s, err := h.read(fsys, FreezeState, group)
	if err != nil || h.Version == V1 {
		return s, err
	}
	if s == "0" {
		return Thawed, nil
	}
	ev := File{Freezer, "cgroup.events", "cgroup.events"}
	m, err := h.readKeyed(fsys, ev, group)
	if err != nil {
		return "", err
	}
	if m["frozen"] == 1 {
		return Frozen, nil
	}
	return Freezing, nil
}

// ReadProcs lists the PIDs in cgroup.procs of group in the hierarchy of
// controller (only the group itself, not its children).
func (h Hierarchy) ReadProcs(fsys fs.FS, controller, group string) ([]int, error) {
	f := Procs(controller)
	s, err := h.read(fsys, f, group)
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, line := range strings.Fields(s) {
		pid, err := strconv.Atoi(line)
		if err != nil {
			return nil, h.fileError(f, group, err)
		}
		pids = append(pids, pid)
	}
	return pids, nil
}

// Find lists the groups below the root of controller's hierarchy (the
// whole tree on v2) whose last path element starts with prefix, as paths
// relative to the root ("lab-mem", "lab-mem/child"), parents first. It
// looks at most depth levels down.
func (h Hierarchy) Find(fsys fs.FS, controller, prefix string, depth int) []string {
	root := rel(h.Dir(controller, ""))
	var out []string
	var walk func(dir string, level int)
	walk = func(dir string, level int) {
		if level > depth {
			return
		}
		entries, err := fs.ReadDir(fsys, path.Join(root, dir))
		if err != nil {
			return
		}
		for _, e := range entries {
			if !e.IsDir() {
				continue
			}
			child := path.Join(dir, e.Name())
			if strings.HasPrefix(e.Name(), prefix) {
				out = append(out, child)
			}
			walk(child, level+1)
		}
	}
	walk("", 1)
	slices.SortFunc(out, func(a, b string) int {
		if d := strings.Count(a, "/") - strings.Count(b, "/"); d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	return out
}
