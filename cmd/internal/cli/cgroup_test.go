package cli

import (
	"encoding/json"
	"io/fs"
	"testing"
	"testing/fstest"

	"github.com/lab-edu/lab/kernel/cgroup"
)

// v2Host is a cgroup v2 machine: a process 4211 in /lab-cpu, with the
// files a Debian 12 kernel shows.
func v2Host() fstest.MapFS {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s), Mode: 0o644} }
	return fstest.MapFS{
		"proc/4211/cgroup":                    file("0::/lab-cpu\n"),
		"sys/fs/cgroup/lab-cpu/cgroup.procs":  file("4211\n"),
		"sys/fs/cgroup/lab-cpu/cpu.max":       file("20000 100000\n"),
		"sys/fs/cgroup/lab-cpu/cpu.weight":    file("100\n"),
		"sys/fs/cgroup/lab-cpu/cpu.stat":      file("usage_usec 1052384\nuser_usec 1050210\nsystem_usec 2174\nnr_periods 51\nnr_throttled 49\nthrottled_usec 3968124\n"),
		"sys/fs/cgroup/lab-cpu/cgroup.freeze": file("0\n"),
		"sys/fs/cgroup/lab-mem/memory.max":    file("67108864\n"),
		"sys/fs/cgroup/lab-mem/cgroup.procs":  file(""),
	}
}

func showOpts(t *testing.T, fsys fs.FS, target string, asJSON bool) (*cgroupShowOptions, *testEnv) {
	e := newTestEnv(t)
	return &cgroupShowOptions{
		IO: e.f.IO, FS: fsys, Target: target, JSON: asJSON,
		Detect: func() (cgroup.Hierarchy, error) {
			return cgroup.Hierarchy{Version: cgroup.V2, Root: cgroup.DefaultRoot}, nil
		},
	}, e
}

func TestCgroupShowPID(t *testing.T) {
	opts, e := showOpts(t, v2Host(), "4211", false)
	if err := runCgroupShow(opts); err != nil {
		t.Fatal(err)
	}
	mustContain(t, "show 4211", e.out.String(),
		"process 4211 (cgroup v2)", "(unified)  /lab-cpu", "group /lab-cpu (cgroup v2)", "processes: 4211",
		"/sys/fs/cgroup/lab-cpu/cpu.max", "20000 100000", "nr_throttled 49")
}

func TestCgroupShowGroupJSON(t *testing.T) {
	opts, e := showOpts(t, v2Host(), "lab-mem", true)
	if err := runCgroupShow(opts); err != nil {
		t.Fatal(err)
	}
	var got cgroupShow
	if err := json.Unmarshal(e.out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Version != "cgroup v2" || len(got.Groups) != 1 || got.Groups[0].Group != "/lab-mem" ||
		len(got.Groups[0].Values) != 1 || got.Groups[0].Values[0].File != "/sys/fs/cgroup/lab-mem/memory.max" {
		t.Errorf("show lab-mem --json = %+v", got)
	}
}

func TestCgroupShowBadTarget(t *testing.T) {
	for _, target := range []string{"99999", "lab-nope", "-3", "../etc"} {
		opts, _ := showOpts(t, v2Host(), target, false)
		err := runCgroupShow(opts)
		if exitCode(err) != ExitUsage {
			t.Errorf("show %s = %v, want a usage error", target, err)
		}
	}
}

func TestCgroupShowArgs(t *testing.T) {
	e := newTestEnv(t)
	var got *cgroupShowOptions
	cmd := newCmdCgroup(e.f, func(o *cgroupShowOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"show", "lab-mem", "--json"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Target != "lab-mem" || !got.JSON {
		t.Errorf("options = %+v", got)
	}
	if code := e.run(t, "cgroup", "show"); code != ExitUsage {
		t.Errorf("cgroup show without a target: exit %d, want 2", code)
	}
}
