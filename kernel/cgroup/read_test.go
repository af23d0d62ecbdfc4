package cgroup

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lab-edu/lab/kernel/procfs"
)

// The testdata trees are captured from a Debian 12 VM (cgroup v2, kernel
// 6.1) and a v1 host, laid out from "/" so a Hierarchy rooted at
// /sys/fs/cgroup reads them through os.DirFS.
var (
	v1 = Hierarchy{Version: V1, Root: DefaultRoot}
	v2 = Hierarchy{Version: V2, Root: DefaultRoot}
)

func TestNamesAndPaths(t *testing.T) {
	tests := []struct {
		h     Hierarchy
		f     File
		group string
		want  string
	}{
		{v1, MemoryLimit, "lab-mem", "/sys/fs/cgroup/memory/lab-mem/memory.limit_in_bytes"},
		{v2, MemoryLimit, "lab-mem", "/sys/fs/cgroup/lab-mem/memory.max"},
		{v1, SwapLimit, "lab-mem", "/sys/fs/cgroup/memory/lab-mem/memory.memsw.limit_in_bytes"},
		{v2, SwapLimit, "/lab-mem/", "/sys/fs/cgroup/lab-mem/memory.swap.max"},
		{v1, OOMEvents, "lab-mem", "/sys/fs/cgroup/memory/lab-mem/memory.oom_control"},
		{v2, OOMEvents, "lab-mem", "/sys/fs/cgroup/lab-mem/memory.events"},
		{v1, CPUQuota, "lab-cpu", "/sys/fs/cgroup/cpu/lab-cpu/cpu.cfs_quota_us"},
		{v2, CPUPeriod, "lab-cpu", "/sys/fs/cgroup/lab-cpu/cpu.max"},
		{v1, CPUWeight, "a/b", "/sys/fs/cgroup/cpu/a/b/cpu.shares"},
		{v2, CPUWeight, "a/b", "/sys/fs/cgroup/a/b/cpu.weight"},
		{v1, CPUUsage, "g", "/sys/fs/cgroup/cpuacct/g/cpuacct.usage"},
		{v2, CPUUsage, "g", "/sys/fs/cgroup/g/cpu.stat"},
		{v1, PidsEvents, "lab-pids", "/sys/fs/cgroup/pids/lab-pids/pids.events"},
		{v1, FreezeState, "lab-freeze", "/sys/fs/cgroup/freezer/lab-freeze/freezer.state"},
		{v2, FreezeState, "lab-freeze", "/sys/fs/cgroup/lab-freeze/cgroup.freeze"},
		{v1, Procs(Freezer), "lab-freeze", "/sys/fs/cgroup/freezer/lab-freeze/cgroup.procs"},
		{Hierarchy{V2, "/sys/fs/cgroup/unified"}, Procs(""), "x", "/sys/fs/cgroup/unified/x/cgroup.procs"},
	}
	for _, tt := range tests {
		if got := tt.h.Path(tt.f, tt.group); got != tt.want {
			t.Errorf("%s Path(%s, %q) = %q, want %q", tt.h.Version, tt.f.V1, tt.group, got, tt.want)
		}
	}
	if got := v2.Label(MemoryLimit); got != "memory.max (cgroup v2)" {
		t.Errorf("Label = %q", got)
	}
}

func TestParseLimit(t *testing.T) {
	tests := []struct {
		in   string
		want Limit
		err  bool
	}{
		{"max\n", Limit{Max: true}, false},
		{"-1", Limit{Max: true}, false},
		{"9223372036854771712", Limit{Max: true}, false}, // v1 "no limit" with 4 KiB pages
		{"9223372036854710272", Limit{Max: true}, false}, // v1 "no limit" with 64 KiB pages
		{"67108864", Limit{Value: 64 << 20}, false},
		{"0", Limit{Value: 0}, false},
		{"64M", Limit{}, true},
		{"", Limit{}, true},
	}
	for _, tt := range tests {
		got, err := ParseLimit(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseLimit(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestParseCPUMax(t *testing.T) {
	tests := []struct {
		in   string
		want CPUMax
		cpus float64
		err  bool
	}{
		{"max 100000\n", CPUMax{Quota: -1, Period: 100000}, 0, false},
		{"20000 100000", CPUMax{Quota: 20000, Period: 100000}, 0.2, false},
		{"200000 100000", CPUMax{Quota: 200000, Period: 100000}, 2, false},
		{"20000", CPUMax{}, 0, true},
		{"max max", CPUMax{}, 0, true},
	}
	for _, tt := range tests {
		got, err := ParseCPUMax(tt.in)
		if (err != nil) != tt.err || got != tt.want || got.CPUs() != tt.cpus {
			t.Errorf("ParseCPUMax(%q) = %+v (%g CPUs), %v; want %+v (%g), error %v", tt.in, got, got.CPUs(), err, tt.want, tt.cpus, tt.err)
		}
	}
}

func TestParseKeyed(t *testing.T) {
	b, err := os.ReadFile("testdata/v2/sys/fs/cgroup/lab-cpu/cpu.stat")
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseKeyed(strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	if m["usage_usec"] != 1052384 || m["nr_throttled"] != 49 || m["core_sched.force_idle_usec"] != 0 || len(m) != 9 {
		t.Errorf("ParseKeyed(cpu.stat) = %v", m)
	}
	if _, err := ParseKeyed(strings.NewReader("oom_kill\n")); err == nil {
		t.Error("ParseKeyed(a key without value) = nil error")
	}
}

// TestReadV2 reads the captured v2 tree with the v2 file names.
func TestReadV2(t *testing.T) {
	fsys := os.DirFS("testdata/v2")
	if l, err := v2.ReadMemoryLimit(fsys, "lab-mem"); err != nil || l != (Limit{Value: 64 << 20}) {
		t.Errorf("ReadMemoryLimit = %v, %v", l, err)
	}
	if l, err := v2.ReadSwapLimit(fsys, "lab-mem"); err != nil || l != (Limit{Value: 0}) {
		t.Errorf("ReadSwapLimit = %v, %v", l, err)
	}
	if n, err := v2.ReadOOMKills(fsys, "lab-mem"); err != nil || n != 3 {
		t.Errorf("ReadOOMKills = %d, %v; want 3 (memory.events)", n, err)
	}
	if off, err := v2.ReadOOMKillDisabled(fsys, "lab-mem"); err != nil || off {
		t.Errorf("ReadOOMKillDisabled = %v, %v", off, err)
	}
	if u, err := v2.ReadMemoryUsage(fsys, "lab-mem"); err != nil || u != 1118208 {
		t.Errorf("ReadMemoryUsage = %d, %v", u, err)
	}
	if c, err := v2.ReadCPUMax(fsys, "lab-cpu"); err != nil || c != (CPUMax{20000, 100000}) {
		t.Errorf("ReadCPUMax = %v, %v", c, err)
	}
	if w, err := v2.ReadCPUWeight(fsys, "lab-cpu"); err != nil || w != 100 {
		t.Errorf("ReadCPUWeight = %d, %v", w, err)
	}
	th, err := v2.ReadThrottling(fsys, "lab-cpu")
	if want := (Throttling{Periods: 51, Throttled: 49, Time: 3968124 * time.Microsecond}); err != nil || th != want {
		t.Errorf("ReadThrottling = %+v, %v; want %+v", th, err, want)
	}
	if u, err := v2.ReadCPUUsage(fsys, "lab-cpu"); err != nil || u != 1052384*time.Microsecond {
		t.Errorf("ReadCPUUsage = %s, %v", u, err)
	}
	if l, err := v2.ReadPidsMax(fsys, "lab-pids"); err != nil || l != (Limit{Value: 20}) {
		t.Errorf("ReadPidsMax = %v, %v", l, err)
	}
	if n, err := v2.ReadPidsCurrent(fsys, "lab-pids"); err != nil || n != 3 {
		t.Errorf("ReadPidsCurrent = %d, %v", n, err)
	}
	if n, err := v2.ReadPidsRefused(fsys, "lab-pids"); err != nil || n != 12 {
		t.Errorf("ReadPidsRefused = %d, %v", n, err)
	}
	for group, want := range map[string]string{"lab-freeze": Frozen, "lab-cpu": Thawed, "user.slice": Thawed} {
		if s, err := v2.ReadFreezeState(fsys, group); err != nil || s != want {
			t.Errorf("ReadFreezeState(%s) = %q, %v; want %q", group, s, err, want)
		}
	}
	if pids, err := v2.ReadProcs(fsys, "", "lab-pids"); err != nil || !reflect.DeepEqual(pids, []int{4302, 4303, 4317}) {
		t.Errorf("ReadProcs = %v, %v", pids, err)
	}
	if pids, err := v2.ReadProcs(fsys, "", "lab-mem"); err != nil || len(pids) != 0 {
		t.Errorf("ReadProcs(empty) = %v, %v", pids, err)
	}
	if !v2.Exists(fsys, Memory, "lab-mem") || v2.Exists(fsys, Memory, "lab-nope") {
		t.Error("Exists is wrong")
	}
	got := v2.Find(fsys, "", "lab", 3)
	if want := []string{"lab-cpu", "lab-freeze", "lab-mem", "lab-pids"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Find = %v, want %v", got, want)
	}
}

// TestReadV1 reads the v1 tree with the v1 names and units.
func TestReadV1(t *testing.T) {
	fsys := os.DirFS("testdata/v1")
	if l, err := v1.ReadMemoryLimit(fsys, "lab-mem"); err != nil || l != (Limit{Value: 64 << 20}) {
		t.Errorf("ReadMemoryLimit = %v, %v", l, err)
	}
	if l, err := v1.ReadSwapLimit(fsys, "lab-mem"); err != nil || !l.Max {
		t.Errorf("ReadSwapLimit = %v, %v; want max", l, err)
	}
	if n, err := v1.ReadOOMKills(fsys, "lab-mem"); err != nil || n != 2 {
		t.Errorf("ReadOOMKills = %d, %v; want 2 (memory.oom_control)", n, err)
	}
	if c, err := v1.ReadCPUMax(fsys, "lab-cpu"); err != nil || c != (CPUMax{20000, 100000}) {
		t.Errorf("ReadCPUMax = %v, %v", c, err)
	}
	th, err := v1.ReadThrottling(fsys, "lab-cpu")
	if want := (Throttling{Periods: 52, Throttled: 50, Time: 3981202214}); err != nil || th != want {
		t.Errorf("ReadThrottling = %+v, %v; want %+v", th, err, want)
	}
	if u, err := v1.ReadCPUUsage(fsys, "lab-cpu"); err != nil || u != 1049811093 {
		t.Errorf("ReadCPUUsage = %s, %v (cpuacct.usage is ns)", u, err)
	}
	if n, err := v1.ReadPidsRefused(fsys, "lab-pids"); err != nil || n != 7 {
		t.Errorf("ReadPidsRefused = %d, %v", n, err)
	}
	if s, err := v1.ReadFreezeState(fsys, "lab-freeze"); err != nil || s != Frozen {
		t.Errorf("ReadFreezeState = %q, %v", s, err)
	}
	_, err = v1.ReadMemoryLimit(fsys, "lab-cpu")
	if err == nil || !strings.Contains(err.Error(), "memory.limit_in_bytes (cgroup v1) of lab-cpu") {
		t.Errorf("ReadMemoryLimit(missing) error = %v, want it to name the file and version", err)
	}
}

func TestReadStats(t *testing.T) {
	st := v2.ReadStats(os.DirFS("testdata/v2"), "lab-cpu")
	files := map[string]string{}
	for _, v := range st.Values {
		files[v.File] = v.Value
	}
	if files["/sys/fs/cgroup/lab-cpu/cpu.max"] != "20000 100000" || len(st.Procs) != 1 || st.Version != "cgroup v2" {
		t.Errorf("ReadStats(v2 lab-cpu) = %+v", st)
	}
	st = v1.ReadStats(os.DirFS("testdata/v1"), "lab-cpu", CPU)
	for _, v := range st.Values {
		if !strings.HasPrefix(v.File, "/sys/fs/cgroup/cpu/") {
			t.Errorf("ReadStats(v1, cpu only) has %s", v.File)
		}
	}
	if len(st.Values) != 4 { // quota, period, shares, stat
		t.Errorf("ReadStats(v1 lab-cpu, cpu) = %d values, want 4: %+v", len(st.Values), st.Values)
	}
}

func TestGroupsOf(t *testing.T) {
	read := func(name string) []procfs.CgroupEntry {
		f, err := os.Open("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		e, err := procfs.ParseCgroup(f)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	got := v1.GroupsOf(read("proc-cgroup-v1"))
	want := []Membership{{CPU, "/lab-cpu"}, {CPUAcct, "/lab-cpu"}, {Cpuset, "/"}, {Freezer, "/"}, {Memory, "/lab-mem"}, {Pids, "/lab-pids"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("v1 GroupsOf = %v, want %v", got, want)
	}
	got = v2.GroupsOf(read("proc-cgroup-v2"))
	want = []Membership{{"", "/user.slice/user-1000.slice/session-3.scope"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("v2 GroupsOf = %v, want %v", got, want)
	}
}

func TestWeightToShares(t *testing.T) {
	for weight, shares := range map[uint64]uint64{1: 2, 100: 2597, 10000: 262144, 0: 2, 20000: 262144} {
		if got := WeightToShares(weight); got != shares {
			t.Errorf("WeightToShares(%d) = %d, want %d", weight, got, shares)
		}
	}
}
