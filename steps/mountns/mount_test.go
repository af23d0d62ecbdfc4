package mountlab_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/kernel/kerneltest"
	"github.com/lab-edu/lab/kernel/reexec"
	"github.com/lab-edu/lab/steps"
	mountlab "github.com/lab-edu/lab/steps/mountns"
	"github.com/lab-edu/lab/steps/stepstest"
)

func TestMain(m *testing.M) {
	if reexec.Init() { // the steps re-execute the test binary
		return
	}
	os.Exit(m.Run())
}

// labEnv is a fresh workspace; at the end the cleanups of steps last..0
// and Reset run, and the host must be as before.
func labEnv(t *testing.T, last int) *steps.Env {
	t.Helper()
	kerneltest.Requires(t, kerneltest.Root, kerneltest.Tool("busybox"), kerneltest.Tool("unshare"),
		kerneltest.Tool("pivot_root"), kerneltest.Tool("findmnt"), kerneltest.Tool("mountpoint"))
	env := stepstest.NewEnv(t, mountlab.ID)
	before := stepstest.Snapshot(t)
	t.Cleanup(func() {
		ctx := context.Background()
		for i := last; i >= 0; i-- {
			if err := mountlab.Steps[i].Cleanup(ctx, env); err != nil {
				t.Errorf("clean up %s: %v", mountlab.Steps[i].ID, err)
			}
		}
		if err := mountlab.Reset(ctx, env); err != nil {
			t.Error(err)
		}
		stepstest.Same(t, before, stepstest.Snapshot(t))
	})
	return env
}

// TestSolutionShell follows each step's Solution block literally with
// bash, after the step's Setup, and expects its check to pass.
func TestSolutionShell(t *testing.T) {
	for i, s := range mountlab.Steps {
		t.Run(s.Slug(), func(t *testing.T) {
			env := labEnv(t, i)
			ctx := t.Context()
			stepstest.Do(t, s.Setup, ctx, env)
			out := stepstest.RunSolution(t, s.ID, env, 30*time.Second)
			if r := stepstest.PassesSoon(ctx, s, env.Host, 5*time.Second); r.Status != checker.Pass {
				t.Fatalf("after the Solution block: %s: %s (hint: %s)\noutput:\n%s", r.Status, r.Reason, r.Hint, out)
			}
		})
	}
}

// TestWholeLabAccumulates: after every Solve in order, every check passes.
func TestWholeLabAccumulates(t *testing.T) {
	env := labEnv(t, len(mountlab.Steps)-1)
	ctx := t.Context()
	for _, s := range mountlab.Steps {
		stepstest.Do(t, s.Setup, ctx, env)
		stepstest.Do(t, s.Solve, ctx, env)
	}
	for _, s := range mountlab.Steps {
		if r := s.Verify(ctx, env.Host); r.Status != checker.Pass {
			t.Errorf("%s at the end of the lab: %s: %s", s.ID, r.Status, r.Reason)
		}
	}
}

// sh runs a shell command line (the learner's mistake) in the workspace.
func sh(t *testing.T, env *steps.Env, line string) {
	t.Helper()
	cmd := exec.Command("bash", "-e", "-c", strings.ReplaceAll(line, "{{work}}", env.Dir))
	cmd.Dir = env.Dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v: %s", line, err, out)
	}
}

// shDetached starts a long-lived shell command line that must outlive sh.
func shDetached(t *testing.T, env *steps.Env, line string) {
	t.Helper()
	sh(t, env, "setsid bash -c '"+line+"' </dev/null >/dev/null 2>&1 &")
}

func TestWrongWork(t *testing.T) {
	tests := []struct {
		name string
		step steps.Step
		last int
		do   func(t *testing.T, env *steps.Env)
		want string
	}{
		{"bind left shared", mountlab.Private, 0, func(t *testing.T, env *steps.Env) {
			sh(t, env, "mount --bind {{work}}/private {{work}}/private && mount --make-shared {{work}}/private")
		}, "expected propagation private, found shared"},
		{"no mount point", mountlab.Private, 0, func(t *testing.T, env *steps.Env) {}, "a plain directory"},
		{"tmpfs on the host", mountlab.Hidden, 1, func(t *testing.T, env *steps.Env) {
			sh(t, env, "mount -t tmpfs lab-hidden {{work}}/hidden")
		}, "is mounted at " /* ...hidden in the host's mount namespace */},
		{"tmpfs in a namespace that ended", mountlab.Hidden, 1, func(t *testing.T, env *steps.Env) {
			sh(t, env, "unshare -m mount -t tmpfs lab-hidden {{work}}/hidden")
		}, "expected a process in a new mount namespace with a tmpfs"},
		{"namespace cut from the host", mountlab.Propagation, 2, func(t *testing.T, env *steps.Env) {
			sh(t, env, "mount --bind {{work}}/shared {{work}}/shared && mount --make-shared {{work}}/shared && mkdir -p {{work}}/shared/inner")
			shDetached(t, env, "unshare -m sh -c \"mount -t tmpfs a {{work}}/shared/inner && mount -t tmpfs b {{work}}/private/inner && exec sleep 1000\"")
		}, "did not propagate"},
		{"mounted twice instead of propagated", mountlab.Propagation, 2, func(t *testing.T, env *steps.Env) {
			sh(t, env, "mount --bind {{work}}/shared {{work}}/shared && mount --make-shared {{work}}/shared && mkdir -p {{work}}/shared/inner")
			shDetached(t, env, "unshare -m sh -c \"mount -t tmpfs a {{work}}/shared/inner && mount -t tmpfs b {{work}}/private/inner && exec sleep 1000\"")
			time.Sleep(300 * time.Millisecond)
			sh(t, env, "mount -t tmpfs c {{work}}/shared/inner")
		}, "it was mounted twice, not propagated"},
		{"pivot without detaching the old root", mountlab.Pivot, 3, func(t *testing.T, env *steps.Env) {
			shDetached(t, env, "unshare -m sh -c \"mount --bind {{work}}/rootfs {{work}}/rootfs && cd {{work}}/rootfs && mkdir -p old_root && pivot_root . old_root && exec /bin/sleep 1000\"")
		}, "still has the host's root file system mounted at /old_root"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := labEnv(t, tt.last)
			ctx := t.Context()
			stepstest.Do(t, tt.step.Setup, ctx, env)
			tt.do(t, env)
			var r checker.Result
			deadline := time.Now().Add(3 * time.Second)
			for { // a detached process needs a moment to reach its state
				r = tt.step.Verify(ctx, env.Host)
				if strings.Contains(r.Reason, tt.want) || time.Now().After(deadline) {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			if r.Status != checker.Fail || !strings.Contains(r.Reason, tt.want) {
				t.Fatalf("Verify = %s %q, want fail with %q", r.Status, r.Reason, tt.want)
			}
		})
	}
}
