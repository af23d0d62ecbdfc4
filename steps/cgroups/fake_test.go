package cgroupslab

import (
	"context"
	"strings"
	"testing"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/checker/checkertest"
	"github.com/lab-edu/lab/kernel/cgroup"
)

// These tests run the file checks, unprivileged, against fake hosts laid
// out like a cgroup v2 machine (the students' VM) and a v1 one, with the
// file contents a real kernel shows. The probes need a real kernel; they
// are covered by the root tests.

var (
	fakeV1 = cgroup.Hierarchy{Version: cgroup.V1, Root: cgroup.DefaultRoot}
	fakeV2 = cgroup.Hierarchy{Version: cgroup.V2, Root: cgroup.DefaultRoot}
)

// useHierarchy makes the checks see h instead of this machine's.
func useHierarchy(t *testing.T, h cgroup.Hierarchy) {
	t.Helper()
	saved := detect
	detect = func() (cgroup.Hierarchy, error) { return h, nil }
	t.Cleanup(func() { detect = saved })
}

// fakeHost has the given files (absolute path: content); every parent
// directory exists.
func fakeHost(files map[string]string) *checkertest.FakeHost {
	h := checkertest.New()
	for name, data := range files {
		h.AddFile(name, data, 0o644)
	}
	return h
}

type fileCase struct {
	name     string
	h        cgroup.Hierarchy
	files    map[string]string
	check    checker.Check
	status   checker.Status
	contains []string // in the reason
}

func runFileCases(t *testing.T, cases []fileCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			useHierarchy(t, tt.h)
			r := tt.check(context.Background(), fakeHost(tt.files))
			if r.Status != tt.status {
				t.Fatalf("status = %s (%s), want %s", r.Status, r.Reason, tt.status)
			}
			for _, s := range tt.contains {
				if !strings.Contains(r.Reason, s) {
					t.Errorf("reason %q does not contain %q", r.Reason, s)
				}
			}
			if r.Status == checker.Fail && r.Hint == "" {
				t.Errorf("a failure without a hint: %q", r.Reason)
			}
		})
	}
}

func TestMemoryLimitFiles(t *testing.T) {
	runFileCases(t, []fileCase{
		{"v2 passes", fakeV2, map[string]string{"/sys/fs/cgroup/lab-mem/memory.max": "67108864\n"},
			checkMemoryLimit, checker.Pass, nil},
		{"v1 passes", fakeV1, map[string]string{"/sys/fs/cgroup/memory/lab-mem/memory.limit_in_bytes": "67108864\n"},
			checkMemoryLimit, checker.Pass, nil},
		{"v2 no group", fakeV2, map[string]string{"/sys/fs/cgroup/lab-memory/memory.max": "max\n"},
			checkMemoryLimit, checker.Fail, []string{"/sys/fs/cgroup/lab-mem", "lab-memory"}},
		{"v1 group in the wrong tree", fakeV1, map[string]string{"/sys/fs/cgroup/cpu/lab-mem/cpu.shares": "1024\n"},
			checkMemoryLimit, checker.Fail, []string{"/sys/fs/cgroup/memory/lab-mem", "nothing named lab*"}},
		{"v2 limit on the wrong group", fakeV2, map[string]string{
			"/sys/fs/cgroup/lab-mem/memory.max":   "max\n",
			"/sys/fs/cgroup/lab-other/memory.max": "67108864\n",
		}, checkMemoryLimit, checker.Fail, []string{"memory.max = max", "/sys/fs/cgroup/lab-other/memory.max"}},
		{"v1 limit on the wrong group", fakeV1, map[string]string{
			"/sys/fs/cgroup/memory/lab-mem/memory.limit_in_bytes":       "9223372036854771712\n",
			"/sys/fs/cgroup/memory/lab-mem/sub/memory.limit_in_bytes":   "67108864\n",
			"/sys/fs/cgroup/memory/lab-mem2/memory.limit_in_bytes":      "9223372036854771712\n",
			"/sys/fs/cgroup/memory/lab-mem-x/memory.limit_in_bytes":     "67108864\n",
			"/sys/fs/cgroup/memory/unrelated/memory.limit_in_bytes":     "67108864\n",
			"/sys/fs/cgroup/memory/lab-mem/cgroup.procs":                "",
			"/sys/fs/cgroup/memory/lab-mem/memory.oom_control":          "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n",
			"/sys/fs/cgroup/memory/lab-mem/memory.memsw.limit_in_bytes": "9223372036854771712\n",
		}, checkMemoryLimit, checker.Fail, []string{"memory.limit_in_bytes = max", "lab-mem-x/memory.limit_in_bytes"}},
		{"v2 wrong value", fakeV2, map[string]string{"/sys/fs/cgroup/lab-mem/memory.max": "65536\n"},
			checkMemoryLimit, checker.Fail, []string{"memory.max = 65536", "64 KiB"}},
		{"v2 controller not enabled", fakeV2, map[string]string{"/sys/fs/cgroup/lab-mem/cgroup.procs": ""},
			checkMemoryLimit, checker.Fail, []string{"memory.max (cgroup v2)"}},
	})
}

func TestNoSwapFiles(t *testing.T) {
	runFileCases(t, []fileCase{
		{"v2 swap 0", fakeV2, map[string]string{"/sys/fs/cgroup/lab-mem/memory.swap.max": "0\n"},
			checkNoSwap, checker.Pass, nil},
		{"v2 swap max", fakeV2, map[string]string{"/sys/fs/cgroup/lab-mem/memory.swap.max": "max\n"},
			checkNoSwap, checker.Fail, []string{"/sys/fs/cgroup/lab-mem/memory.swap.max = max"}},
		{"v1 memsw = limit", fakeV1, map[string]string{"/sys/fs/cgroup/memory/lab-mem/memory.memsw.limit_in_bytes": "67108864\n"},
			checkNoSwap, checker.Pass, nil},
		{"v1 memsw unlimited", fakeV1, map[string]string{"/sys/fs/cgroup/memory/lab-mem/memory.memsw.limit_in_bytes": "9223372036854771712\n"},
			checkNoSwap, checker.Fail, []string{"memory.memsw.limit_in_bytes = max"}},
		{"v1 no swap accounting, no swap", fakeV1, map[string]string{
			"/sys/fs/cgroup/memory/lab-mem/memory.limit_in_bytes": "67108864\n",
			"/proc/swaps": "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n",
		}, checkNoSwap, checker.Pass, nil},
	})
}

func TestCPUQuotaFiles(t *testing.T) {
	runFileCases(t, []fileCase{
		{"v2 passes", fakeV2, map[string]string{"/sys/fs/cgroup/lab-cpu/cpu.max": "20000 100000\n"},
			checkCPUQuota, checker.Pass, nil},
		{"v2 same share, other period", fakeV2, map[string]string{"/sys/fs/cgroup/lab-cpu/cpu.max": "10000 50000\n"},
			checkCPUQuota, checker.Pass, nil},
		{"v2 no quota", fakeV2, map[string]string{"/sys/fs/cgroup/lab-cpu/cpu.max": "max 100000\n"},
			checkCPUQuota, checker.Fail, []string{`cpu.max = "max 100000"`, "no quota"}},
		{"v2 wrong unit (ms taken for µs)", fakeV2, map[string]string{"/sys/fs/cgroup/lab-cpu/cpu.max": "200000 100000\n"},
			checkCPUQuota, checker.Fail, []string{`/sys/fs/cgroup/lab-cpu/cpu.max = "200000 100000"`, "200% of one CPU"}},
		{"v1 passes", fakeV1, map[string]string{
			"/sys/fs/cgroup/cpu/lab-cpu/cpu.cfs_quota_us":  "20000\n",
			"/sys/fs/cgroup/cpu/lab-cpu/cpu.cfs_period_us": "100000\n",
		}, checkCPUQuota, checker.Pass, nil},
		{"v1 wrong unit (s taken for µs)", fakeV1, map[string]string{
			"/sys/fs/cgroup/cpu/lab-cpu/cpu.cfs_quota_us":  "20000\n",
			"/sys/fs/cgroup/cpu/lab-cpu/cpu.cfs_period_us": "1000000\n",
		}, checkCPUQuota, checker.Fail, []string{"cpu.cfs_quota_us = 20000", "cpu.cfs_period_us = 1000000", "2% of one CPU"}},
		{"v1 no quota", fakeV1, map[string]string{
			"/sys/fs/cgroup/cpu/lab-cpu/cpu.cfs_quota_us":  "-1\n",
			"/sys/fs/cgroup/cpu/lab-cpu/cpu.cfs_period_us": "100000\n",
		}, checkCPUQuota, checker.Fail, []string{"cpu.cfs_quota_us = -1", "no quota"}},
	})
}

func TestPidsFiles(t *testing.T) {
	runFileCases(t, []fileCase{
		{"v2 passes", fakeV2, map[string]string{"/sys/fs/cgroup/lab-pids/pids.max": "20\n"},
			checkPidsMax, checker.Pass, nil},
		{"v2 no limit", fakeV2, map[string]string{"/sys/fs/cgroup/lab-pids/pids.max": "max\n"},
			checkPidsMax, checker.Fail, []string{"/sys/fs/cgroup/lab-pids/pids.max = max"}},
		{"v1 too high", fakeV1, map[string]string{"/sys/fs/cgroup/pids/lab-pids/pids.max": "4096\n"},
			checkPidsMax, checker.Fail, []string{"/sys/fs/cgroup/pids/lab-pids/pids.max = 4096"}},
	})
}

func TestFreezeFiles(t *testing.T) {
	runFileCases(t, []fileCase{
		{"v2 thawed with a process", fakeV2, map[string]string{
			"/sys/fs/cgroup/lab-freeze/cgroup.procs":  "4410\n",
			"/sys/fs/cgroup/lab-freeze/cgroup.freeze": "0\n",
			"/sys/fs/cgroup/lab-freeze/cgroup.events": "populated 1\nfrozen 0\n",
		}, checkFreezeGroup, checker.Pass, nil},
		{"v2 process not moved in", fakeV2, map[string]string{
			"/sys/fs/cgroup/lab-freeze/cgroup.procs":  "",
			"/sys/fs/cgroup/lab-freeze/cgroup.freeze": "0\n",
		}, checkFreezeGroup, checker.Fail, []string{"/sys/fs/cgroup/lab-freeze/cgroup.procs is empty"}},
		{"v2 left frozen", fakeV2, map[string]string{
			"/sys/fs/cgroup/lab-freeze/cgroup.procs":  "4410\n",
			"/sys/fs/cgroup/lab-freeze/cgroup.freeze": "1\n",
			"/sys/fs/cgroup/lab-freeze/cgroup.events": "populated 1\nfrozen 1\n",
		}, checkFreezeGroup, checker.Fail, []string{"cgroup.freeze = 1 (FROZEN)"}},
		{"v1 process not moved in", fakeV1, map[string]string{
			"/sys/fs/cgroup/freezer/lab-freeze/cgroup.procs":  "",
			"/sys/fs/cgroup/freezer/lab-freeze/freezer.state": "THAWED\n",
		}, checkFreezeGroup, checker.Fail, []string{"/sys/fs/cgroup/freezer/lab-freeze/cgroup.procs is empty"}},
		{"v1 left frozen", fakeV1, map[string]string{
			"/sys/fs/cgroup/freezer/lab-freeze/cgroup.procs":  "5400\n",
			"/sys/fs/cgroup/freezer/lab-freeze/freezer.state": "FROZEN\n",
		}, checkFreezeGroup, checker.Fail, []string{"freezer.state = FROZEN"}},
	})
}

func TestAccountingGrade(t *testing.T) {
	files := map[cgroup.Version]map[string]string{
		cgroup.V2: {
			"/sys/fs/cgroup/lab-acct/memory.current": "34603008\n", // 33 MiB
			"/sys/fs/cgroup/lab-acct/cpu.stat":       "usage_usec 412345\nuser_usec 400000\nsystem_usec 12345\ncore_sched.force_idle_usec 0\n",
		},
		cgroup.V1: {
			"/sys/fs/cgroup/memory/lab-acct/memory.usage_in_bytes": "34603008\n",
			"/sys/fs/cgroup/cpuacct/lab-acct/cpuacct.usage":        "412345678\n",
		},
	}
	for _, h := range []cgroup.Hierarchy{fakeV1, fakeV2} {
		t.Run(h.Version.String(), func(t *testing.T) {
			useHierarchy(t, h)
			host := fakeHost(files[h.Version])
			ctx := context.Background()
			q, err := acctQuiz.Ask(ctx, host)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(q.Text, h.Name(cgroup.MemoryUsage)) {
				t.Errorf("question does not name %s: %s", h.Name(cgroup.MemoryUsage), q.Text)
			}
			sol, err := acctQuiz.Solution(ctx, host)
			if err != nil || sol != "33 412" {
				t.Fatalf("Solution = %q, %v; want 33 412", sol, err)
			}
			for answer, want := range map[string]checker.Status{
				"33 412":         checker.Pass,
				"32 400":         checker.Pass, // within tolerance
				"33MiB, 412ms":   checker.Pass,
				"45 412":         checker.Fail, // memory off
				"33 412345":      checker.Fail, // CPU in µs, not ms
				"33 0.4":         checker.Fail, // CPU in s
				"33":             checker.Fail,
				"thirty-three 4": checker.Fail,
			} {
				if r := acctQuiz.Grade(ctx, host, answer); r.Status != want {
					t.Errorf("Grade(%q) = %s (%s), want %s", answer, r.Status, r.Reason, want)
				}
			}
		})
	}
}

func TestWeightQuiz(t *testing.T) {
	ctx := context.Background()
	if r := weightQuiz.Grade(ctx, nil, "d, a, c"); r.Status != checker.Pass {
		t.Errorf("right answer: %s", r.Reason)
	}
	for _, wrong := range []string{"a", "a,b,c,d", "e", "a,c"} {
		if r := weightQuiz.Grade(ctx, nil, wrong); r.Status != checker.Fail {
			t.Errorf("Grade(%q) = %s, want fail", wrong, r.Status)
		}
	}
}

func TestStepsHaveLessons(t *testing.T) {
	for _, s := range Steps {
		if !strings.HasPrefix(s.ID, "cgroups/") || s.Title == "" || (s.Check == nil) == (s.Quiz == nil) {
			t.Errorf("step %q: bad ID, title, or check/quiz", s.ID)
		}
	}
}
