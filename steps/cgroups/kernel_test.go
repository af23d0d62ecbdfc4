package cgroupslab

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/kernel/cgroup"
	"github.com/lab-edu/lab/kernel/kerneltest"
	"github.com/lab-edu/lab/steps"
	"github.com/lab-edu/lab/steps/stepstest"
)

// labEnv is a fresh workspace on the real kernel whose every trace is
// removed at the end: the Cleanups of every step, then Reset; the host
// must then be as it was.
func labEnv(t *testing.T) (*steps.Env, cgroup.Hierarchy) {
	t.Helper()
	kerneltest.Requires(t, kerneltest.Root, kerneltest.Tool("bash"), kerneltest.Tool("sleep"), kerneltest.Tool("setsid"))
	h, err := detect()
	if err != nil {
		t.Fatal(err)
	}
	env := stepstest.NewEnv(t, "cgroups")
	before := stepstest.Snapshot(t)
	t.Cleanup(func() {
		ctx := context.Background()
		for i := len(Steps) - 1; i >= 0; i-- {
			if c := Steps[i].Cleanup; c != nil {
				if err := c(ctx, env); err != nil {
					t.Errorf("clean up %s: %v", Steps[i].ID, err)
				}
			}
		}
		if err := Reset(ctx, env); err != nil {
			t.Error(err)
		}
		stepstest.Same(t, before, stepstest.Snapshot(t))
	})
	return env, h
}

// write writes a control file, as `echo value > file` does.
func write(t *testing.T, path, value string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(value), 0); err != nil {
		t.Fatal(err)
	}
}

func mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

func wantFail(t *testing.T, r checker.Result, contains ...string) {
	t.Helper()
	if r.Status != checker.Fail {
		t.Fatalf("status = %s (%s), want fail", r.Status, r.Reason)
	}
	for _, s := range contains {
		if !strings.Contains(r.Reason, s) {
			t.Errorf("reason %q does not name %q", r.Reason, s)
		}
	}
}

// TestWrongWork: the usual mistakes, made with mkdir and echo as a
// student would, fail with a reason naming the file and the value found.
func TestWrongWork(t *testing.T) {
	t.Run("limit on the wrong group", func(t *testing.T) {
		env, h := labEnv(t)
		mkdir(t, h.Dir(cgroup.Memory, memGroup))
		other := "lab-memory"
		mkdir(t, h.Dir(cgroup.Memory, other))
		t.Cleanup(func() { _ = h.Delete(other) })
		write(t, h.Path(cgroup.MemoryLimit, other), "64M")
		r := MemoryLimit.Verify(t.Context(), env.Host)
		wantFail(t, r, h.Path(cgroup.MemoryLimit, memGroup)+" = max", h.Path(cgroup.MemoryLimit, other))
	})
	t.Run("limit in the wrong unit", func(t *testing.T) {
		env, h := labEnv(t)
		mkdir(t, h.Dir(cgroup.Memory, memGroup))
		write(t, h.Path(cgroup.MemoryLimit, memGroup), "64K") // KiB, not MiB
		r := MemoryLimit.Verify(t.Context(), env.Host)
		wantFail(t, r, h.Name(cgroup.MemoryLimit), "= 65536")
	})
	t.Run("process not moved into the group", func(t *testing.T) {
		env, h := labEnv(t)
		mkdir(t, h.Dir(cgroup.Freezer, freezeGroup))
		cmd := exec.Command("sleep", "30") // started, but left in the shell's group
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		r := Freeze.Verify(t.Context(), env.Host)
		wantFail(t, r, h.Path(cgroup.Procs(cgroup.Freezer), freezeGroup)+" is empty")
	})
	t.Run("quota in the wrong unit", func(t *testing.T) {
		env, h := labEnv(t)
		mkdir(t, h.Dir(cgroup.CPU, cpuGroup))
		if h.Version == cgroup.V2 {
			write(t, h.Root+"/cgroup.subtree_control", "+cpu")
			write(t, h.Path(cgroup.CPUQuota, cpuGroup), "20000 1000000") // period in ms taken for µs
		} else {
			write(t, h.Path(cgroup.CPUPeriod, cpuGroup), "1000000")
			write(t, h.Path(cgroup.CPUQuota, cpuGroup), "20000")
		}
		r := CPUQuota.Verify(t.Context(), env.Host)
		wantFail(t, r, h.Name(cgroup.CPUQuota), "20000", "1000000", "2% of one CPU")
	})
	t.Run("swap left open", func(t *testing.T) {
		env, h := labEnv(t)
		stepstest.Do(t, MemoryLimit.Solve, t.Context(), env)
		if _, err := os.Stat(h.Path(cgroup.SwapLimit, memGroup)); err != nil {
			t.Skipf("no %s on this kernel: %v", h.Name(cgroup.SwapLimit), err)
		}
		r := OOM.Verify(t.Context(), env.Host)
		wantFail(t, r, h.Path(cgroup.SwapLimit, memGroup))
	})
	t.Run("no pids limit", func(t *testing.T) {
		env, h := labEnv(t)
		mkdir(t, h.Dir(cgroup.Pids, pidsGroup))
		r := PidsLimit.Verify(t.Context(), env.Host)
		wantFail(t, r, h.Path(cgroup.PidsMax, pidsGroup)+" = max")
	})
	t.Run("left frozen", func(t *testing.T) {
		env, h := labEnv(t)
		stepstest.Do(t, Freeze.Solve, t.Context(), env)
		if err := h.Freeze(freezeGroup); err != nil {
			t.Fatal(err)
		}
		r := Freeze.Verify(t.Context(), env.Host)
		wantFail(t, r, h.Path(cgroup.FreezeState, freezeGroup))
	})
}

// TestSolutionShell follows each step's Solution block literally with
// bash (mkdir and echo into cgroupfs), after the step's Setup, and expects
// its check to pass.
func TestSolutionShell(t *testing.T) {
	for _, s := range Steps {
		if s.Quiz != nil {
			continue // answered with `lab check --answer`: see TestAccountingSolutionShell
		}
		t.Run(s.Slug(), func(t *testing.T) {
			env, _ := labEnv(t)
			ctx := t.Context()
			stepstest.Do(t, s.Setup, ctx, env)
			out := stepstest.RunSolution(t, s.ID, env, 20*time.Second)
			if r := stepstest.PassesSoon(ctx, s, env.Host, 3*time.Second); r.Status != checker.Pass {
				t.Fatalf("after the Solution block: %s: %s (hint: %s)\noutput:\n%s", r.Status, r.Reason, r.Hint, out)
			}
		})
	}
}

// TestAccountingSolutionShell runs the accounting Solution block with a
// stand-in `lab` on PATH that records the answer, and grades that answer:
// the shell arithmetic on the live files must give a right one.
func TestAccountingSolutionShell(t *testing.T) {
	env, _ := labEnv(t)
	ctx := t.Context()
	stepstest.Do(t, Accounting.Setup, ctx, env)
	bin := t.TempDir()
	record := filepath.Join(bin, "answer")
	script := "#!/bin/sh\n[ \"$1\" = check ] && [ \"$3\" = --answer ] && printf '%s' \"$4\" > " + record + "\n"
	if err := os.WriteFile(filepath.Join(bin, "lab"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
	out := stepstest.RunSolution(t, Accounting.ID, env, 10*time.Second)
	answer, err := os.ReadFile(record)
	if err != nil {
		t.Fatalf("the Solution block did not run `lab check ... --answer`: %v\noutput:\n%s", err, out)
	}
	if err := env.Answers.SetAnswer(Accounting.ID, string(answer)); err != nil {
		t.Fatal(err)
	}
	if r := Accounting.Verify(ctx, env.Host); r.Status != checker.Pass {
		t.Fatalf("answer %q from the Solution block: %s: %s", answer, r.Status, r.Reason)
	}
}

// TestWholeLabAccumulates solves every step in order: at the end every
// step still passes, as `lab grade` requires.
func TestWholeLabAccumulates(t *testing.T) {
	env, _ := labEnv(t)
	ctx := t.Context()
	for _, s := range Steps {
		stepstest.Do(t, s.Setup, ctx, env)
		stepstest.Do(t, s.Solve, ctx, env)
	}
	for _, s := range Steps {
		if r := s.Verify(ctx, env.Host); r.Status != checker.Pass {
			t.Errorf("%s after solving the whole lab: %s: %s", s.ID, r.Status, r.Reason)
		} else {
			t.Logf("%s: %s", s.ID, strings.Join(evidence(r), "; "))
		}
	}
}

func evidence(r checker.Result) []string {
	out := slices.Clone(r.Evidence)
	for _, p := range r.Parts {
		out = append(out, evidence(p)...)
	}
	return out
}

// TestResetTouchesOnlyLabGroups: Reset removes the lab's groups, even with
// a student's subgroup and process inside (the process is moved out, not
// killed), kills the lab's own workloads, and leaves other groups alone.
func TestResetTouchesOnlyLabGroups(t *testing.T) {
	env, h := labEnv(t)
	ctx := t.Context()
	host := os.DirFS("/")
	stepstest.Do(t, MemoryLimit.Solve, ctx, env)
	stepstest.Do(t, Accounting.Setup, ctx, env)
	// A student's subgroup with a student's process in it.
	sub := memGroup + "/mine"
	mkdir(t, h.Dir(cgroup.Memory, sub))
	student := exec.Command("sleep", "30")
	if err := student.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = student.Process.Kill(); _ = student.Wait() })
	if err := h.Add(sub, student.Process.Pid, cgroup.Memory); err != nil {
		t.Fatal(err)
	}
	// Groups the lab did not make: one with a lab-like name, one without.
	foreign := []string{"lab-mem-notours", "labtest-foreign"}
	for _, g := range foreign {
		mkdir(t, h.Dir(cgroup.Memory, g))
		t.Cleanup(func() { _ = h.Delete(g) })
	}
	workloads := labProcesses()
	if len(workloads) == 0 {
		t.Fatal("the accounting Setup started no workload")
	}

	if err := Reset(ctx, env); err != nil {
		t.Fatal(err)
	}
	for _, g := range Groups {
		if h.Exists(host, cgroup.Memory, g) || h.Exists(host, cgroup.Freezer, g) {
			t.Errorf("Reset left %s", h.Dir(cgroup.Memory, g))
		}
	}
	for _, g := range foreign {
		if !h.Exists(host, cgroup.Memory, g) {
			t.Errorf("Reset removed %s, which is not the lab's", h.Dir(cgroup.Memory, g))
		}
	}
	if err := syscall.Kill(student.Process.Pid, 0); err != nil {
		t.Errorf("Reset killed the student's process: %v", err)
	}
	for _, pid := range workloads {
		if isLabProcess(pid) {
			t.Errorf("Reset left the lab's workload %d running", pid)
		}
	}
	if err := Reset(ctx, env); err != nil {
		t.Errorf("second Reset = %v, want nil (idempotent)", err)
	}
}

// BenchmarkCheck records each step's check time on the solved lab (the
// whole lab must grade in under 5 s).
func BenchmarkCheck(b *testing.B) {
	kerneltest.Requires(b, kerneltest.Root)
	env := stepstest.NewEnv(b, "cgroups")
	ctx := context.Background()
	b.Cleanup(func() { _ = Reset(ctx, env) })
	for _, s := range Steps {
		stepstest.Do(b, s.Setup, ctx, env)
		stepstest.Do(b, s.Solve, ctx, env)
	}
	for _, s := range Steps {
		b.Run(s.Slug(), func(b *testing.B) {
			for b.Loop() {
				if r := s.Verify(ctx, env.Host); r.Status != checker.Pass {
					b.Fatalf("%s: %s", r.Status, r.Reason)
				}
			}
		})
	}
}
