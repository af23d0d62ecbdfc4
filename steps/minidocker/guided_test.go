package minidockerlab_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/content"
	"github.com/lab-edu/lab/kernel/container"
	"github.com/lab-edu/lab/kernel/kerneltest"
	"github.com/lab-edu/lab/steps"
	minidockerlab "github.com/lab-edu/lab/steps/minidocker"
	"github.com/lab-edu/lab/steps/stepstest"
)

// literalAnswer is `--answer X` with X a literal in a Solution block.
var literalAnswer = regexp.MustCompile(`--answer ([a-z0-9_,]+)\n`)

// leftovers lists what of container id is still in the kernel: items of a
// snapshot that name its ID (cgroup lab-ctr-<id12>, veth labv<id11>,
// iptables rules lab-ctr:<id12>) or the state directory (mounts).
func leftovers(t *testing.T, id, state string) []string {
	t.Helper()
	var out []string
	for kind, items := range stepstest.Snapshot(t) {
		for _, it := range items {
			if strings.Contains(it, id[:11]) || strings.Contains(it, state) {
				out = append(out, kind+" "+it)
			}
		}
	}
	return out
}

// TestGuidedLifecycle: each guided step fails unsolved and passes solved,
// and after the cleanups nothing of lab-web is left in the kernel. (The
// lifecycle test in labs compares whole snapshots; this one looks only at
// lab-web's objects, so it holds while other tests run containers too.)
func TestGuidedLifecycle(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root, kerneltest.Tool("busybox"))
	for i, s := range minidockerlab.Guided {
		t.Run(s.Slug(), func(t *testing.T) {
			env := stepstest.NewEnv(t, minidockerlab.ID)
			ctx := t.Context()
			state := filepath.Dir(env.Host.Workspace())
			cleanup := func() {
				for j := i; j >= 0; j-- {
					if err := minidockerlab.Guided[j].Cleanup(context.Background(), env); err != nil {
						t.Errorf("clean up %s: %v", minidockerlab.Guided[j].ID, err)
					}
				}
			}
			t.Cleanup(cleanup)
			stepstest.Do(t, s.Setup, ctx, env)
			if r := s.Verify(ctx, env.Host); r.Status != checker.Fail || r.Reason == "" {
				t.Fatalf("unsolved: %s %q, want a fail with a reason", r.Status, r.Reason)
			}
			if s.Quiz != nil {
				// The Solution block's literal answer, where it has one,
				// is right on this machine, and a wrong one is refused.
				doc, err := content.Step(s.ID, "")
				if err != nil {
					t.Fatal(err)
				}
				if m := literalAnswer.FindStringSubmatch(doc.Shell()); m != nil {
					if r := s.Quiz.Grade(ctx, env.Host, m[1]); r.Status != checker.Pass {
						t.Errorf("the Solution's answer %q: %s: %s", m[1], r.Status, r.Reason)
					}
				}
				if r := s.Quiz.Grade(ctx, env.Host, "h"); r.Status != checker.Fail {
					t.Errorf("a wrong answer: %s, want fail", r.Status)
				}
			}
			stepstest.Do(t, s.Solve, ctx, env)
			if r := s.Verify(ctx, env.Host); r.Status != checker.Pass {
				t.Fatalf("solved: %s: %s (hint: %s)", r.Status, r.Reason, r.Hint)
			}
			c, err := container.Load(state, "lab-web")
			if err != nil {
				t.Fatal(err)
			}
			cleanup()
			deadline := time.Now().Add(3 * time.Second)
			for left := leftovers(t, c.ID, state); len(left) > 0; left = leftovers(t, c.ID, state) {
				if time.Now().After(deadline) {
					t.Fatalf("lab-web (%s) left behind:\n%s", c.ShortID(), strings.Join(left, "\n"))
				}
				time.Sleep(100 * time.Millisecond)
			}
		})
	}
}

// TestRunWrongWork: a lab-web without the limit, or keeping NET_RAW, or
// stopped, fails the run step with what is missing.
func TestRunWrongWork(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root, kerneltest.Tool("busybox"))
	tests := []struct {
		name string
		spec container.Spec
		stop bool
		want string
	}{
		{"no memory limit", container.Spec{CapDrop: []string{"NET_RAW"}}, false, "a memory limit of 67108864 bytes"},
		{"NET_RAW kept", container.Spec{Memory: 64 << 20}, false, "no cap_net_raw in its bounding set"},
		{"stopped", container.Spec{Memory: 64 << 20, CapDrop: []string{"NET_RAW"}}, true, "not running"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := stepstest.NewEnv(t, minidockerlab.ID)
			ctx := t.Context()
			t.Cleanup(func() { cleanUpRun(t, env) })
			stepstest.Do(t, minidockerlab.Run.Setup, ctx, env)
			spec := tt.spec
			spec.Image, spec.Name, spec.Cmd, spec.Detach = "busybox", "lab-web", []string{"sleep", "1000"}, true
			c, err := container.Create(ctx, filepath.Dir(env.Host.Workspace()), spec)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Start(ctx); err != nil {
				t.Fatal(err)
			}
			if tt.stop {
				if err := c.Stop(ctx, time.Second); err != nil {
					t.Fatal(err)
				}
			}
			r := minidockerlab.Run.Verify(ctx, env.Host)
			if r.Status != checker.Fail || !strings.Contains(r.Reason, tt.want) {
				t.Fatalf("%s %q (hint %q), want a fail whose reason has %q", r.Status, r.Reason, r.Hint, tt.want)
			}
		})
	}
}

// TestRunSolutionShell follows the run step's Solution block with a lab
// binary ($LAB_BIN, or built from this tree: the block calls `lab`), with
// LAB_ROOT at the test's state directory.
func TestRunSolutionShell(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root, kerneltest.Tool("busybox"), kerneltest.Tool("go"))
	bin := t.TempDir()
	if _, err := stepstest.LabBinary(bin); err != nil {
		t.Fatal(err)
	}
	env := stepstest.NewEnv(t, minidockerlab.ID)
	ctx := t.Context()
	t.Cleanup(func() { cleanUpRun(t, env) })
	t.Setenv("LAB_ROOT", filepath.Dir(env.Host.Workspace()))
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	stepstest.Do(t, minidockerlab.Run.Setup, ctx, env)
	out := stepstest.RunSolution(t, minidockerlab.Run.ID, env, 60*time.Second)
	if r := stepstest.PassesSoon(ctx, minidockerlab.Run, env.Host, 5*time.Second); r.Status != checker.Pass {
		t.Fatalf("after the Solution block: %s: %s (hint: %s)\noutput:\n%s", r.Status, r.Reason, r.Hint, out)
	}
}

// cleanUpRun is the run step's Cleanup (lab rm -f lab-web), which must work.
func cleanUpRun(t *testing.T, env *steps.Env) {
	t.Helper()
	if err := minidockerlab.Run.Cleanup(context.Background(), env); err != nil {
		t.Errorf("clean up %s: %v", minidockerlab.Run.ID, err)
	}
}
