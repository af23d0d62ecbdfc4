package chrootlab_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/kernel/kerneltest"
	"github.com/lab-edu/lab/kernel/reexec"
	"github.com/lab-edu/lab/kernel/rootfs"
	"github.com/lab-edu/lab/steps"
	chrootlab "github.com/lab-edu/lab/steps/chroot"
	"github.com/lab-edu/lab/steps/stepstest"
)

func TestMain(m *testing.M) {
	if reexec.Init() { // the checks re-execute the test binary
		return
	}
	os.Exit(m.Run())
}

// labEnv is a fresh workspace whose every trace is removed at the end:
// the cleanups of steps 0..last, then the lab's Reset, then the snapshot
// must equal the one taken before.
func labEnv(t *testing.T, last int) *steps.Env {
	t.Helper()
	kerneltest.Requires(t, kerneltest.Root, kerneltest.Tool("busybox"), kerneltest.Tool("unshare"), kerneltest.Tool("pivot_root"))
	env := stepstest.NewEnv(t, chrootlab.ID)
	before := stepstest.Snapshot(t)
	t.Cleanup(func() {
		ctx := context.Background()
		for i := last; i >= 0; i-- {
			if c := chrootlab.Steps[i].Cleanup; c != nil {
				if err := c(ctx, env); err != nil {
					t.Errorf("clean up %s: %v", chrootlab.Steps[i].ID, err)
				}
			}
		}
		if err := chrootlab.Reset(ctx, env); err != nil {
			t.Error(err)
		}
		stepstest.Same(t, before, stepstest.Snapshot(t))
	})
	return env
}

// TestSolutionShell follows each step's Solution block literally with
// bash, after the step's Setup, and expects its check to pass.
func TestSolutionShell(t *testing.T) {
	for i, s := range chrootlab.Steps {
		if s.Quiz != nil {
			continue // its "solution" is an answer, not shell commands
		}
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

// TestWholeLabAccumulates solves every step in order: at the end every
// step's check still passes, as `lab grade` requires.
func TestWholeLabAccumulates(t *testing.T) {
	env := labEnv(t, len(chrootlab.Steps)-1)
	ctx := t.Context()
	for _, s := range chrootlab.Steps {
		stepstest.Do(t, s.Solve, ctx, env)
	}
	for _, s := range chrootlab.Steps {
		if r := s.Verify(ctx, env.Host); r.Status != checker.Pass {
			t.Errorf("%s at the end of the lab: %s: %s", s.ID, r.Status, r.Reason)
		}
	}
}

// TestRootfsWrongWork builds a rootfs, lets mutate break it, and expects the rootfs
// check to fail with a reason containing want.
func TestRootfsWrongWork(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(t *testing.T, root string)
		want   string
	}{
		{"nothing built", func(t *testing.T, root string) { must(t, os.RemoveAll(root)) }, "nothing there"},
		{"missing shell", func(t *testing.T, root string) { must(t, os.Remove(filepath.Join(root, "bin/sh"))) }, "the rootfs has no shell: /bin/sh does not exist"},
		{"broken symlink", func(t *testing.T, root string) { must(t, os.Remove(filepath.Join(root, "bin/busybox"))) }, "/bin/sh is a broken symlink"},
		{"host path symlink", func(t *testing.T, root string) {
			must(t, os.Remove(filepath.Join(root, "bin/sh")))
			must(t, os.Symlink("/usr/bin/dash", filepath.Join(root, "bin/sh")))
		}, "/usr/bin/dash does not exist inside the rootfs"},
		{"not executable", func(t *testing.T, root string) { must(t, os.Chmod(filepath.Join(root, "bin/busybox"), 0o644)) }, "no execute bit"},
		{"dynamic shell without libraries", func(t *testing.T, root string) {
			must(t, os.Remove(filepath.Join(root, "bin/sh")))
			b, err := os.ReadFile("/bin/bash")
			must(t, err)
			must(t, os.WriteFile(filepath.Join(root, "bin/sh"), b, 0o755))
		}, "dynamically linked and needs its loader"},
		{"shell is a directory", func(t *testing.T, root string) {
			must(t, os.Remove(filepath.Join(root, "bin/sh")))
			must(t, os.Mkdir(filepath.Join(root, "bin/sh"), 0o755))
		}, "/bin/sh is a directory, not a program file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := labEnv(t, 0)
			stepstest.Do(t, chrootlab.Rootfs.Solve, t.Context(), env)
			tt.mutate(t, filepath.Join(env.Dir, "rootfs"))
			r := chrootlab.Rootfs.Verify(t.Context(), env.Host)
			if r.Status != checker.Fail || !strings.Contains(r.Reason, tt.want) {
				t.Fatalf("Verify = %s %q, want fail with %q", r.Status, r.Reason, tt.want)
			}
		})
	}
}

// TestEscapeWrongWork: a plain chroot, and a pivot_root whose old root is
// still mounted, are not jails.
func TestEscapeWrongWork(t *testing.T) {
	tests := []struct {
		name  string
		start func(root string) *exec.Cmd
		want  string
	}{
		{"plain chroot", func(root string) *exec.Cmd { return rootfs.Command(root, "/bin/sleep", "1000") }, "shares the host's mount namespace"},
		{"chroot in a new mount namespace", func(root string) *exec.Cmd {
			return exec.Command("unshare", "-m", "sh", "-c", "mount --bind "+root+" "+root+" && exec chroot "+root+" /bin/sleep 1000")
		}, "reached the host's root"},
		{"old root still mounted", func(root string) *exec.Cmd {
			return exec.Command("unshare", "-m", "sh", "-c",
				"mount --bind "+root+" "+root+" && cd "+root+" && mkdir -p old_root && pivot_root . old_root && exec /bin/sleep 1000")
		}, "still has the host's root file system mounted at /old_root"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := labEnv(t, 3)
			ctx := t.Context()
			stepstest.Do(t, chrootlab.Escape.Setup, ctx, env)
			if _, err := rootfs.StartDetached(tt.start(filepath.Join(env.Dir, "rootfs"))); err != nil {
				t.Fatal(err)
			}
			// Wait until the process has its root, then for the verdict.
			var r checker.Result
			deadline := time.Now().Add(5 * time.Second)
			for time.Now().Before(deadline) {
				if chrootlab.Process.Verify(ctx, env.Host).Status == checker.Pass {
					time.Sleep(100 * time.Millisecond)
					r = chrootlab.Escape.Verify(ctx, env.Host)
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			if r.Status != checker.Fail || !strings.Contains(r.Reason, tt.want) {
				t.Fatalf("Verify = %s %q, want fail with %q", r.Status, r.Reason, tt.want)
			}
		})
	}
}

func TestProcWrongWork(t *testing.T) {
	env := labEnv(t, 2)
	ctx := t.Context()
	stepstest.Do(t, chrootlab.Proc.Setup, ctx, env)
	// A tmpfs where proc should be.
	cmd := exec.Command("mount", "-t", "tmpfs", "lab-notproc", filepath.Join(env.Dir, "rootfs", "proc"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	r := chrootlab.Proc.Verify(ctx, env.Host)
	if r.Status != checker.Fail || !strings.Contains(r.Reason, "tmpfs") {
		t.Fatalf("Verify = %s %q, want fail naming the tmpfs", r.Status, r.Reason)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestQuizSolutionBlock: the quiz's Solution block answers what the quiz
// grades as right.
func TestQuizSolutionBlock(t *testing.T) {
	env := stepstest.NewEnv(t, chrootlab.ID)
	script := stepstest.Solution(t, chrootlab.Quiz.ID, env)
	_, answer, ok := strings.Cut(strings.TrimSpace(script), "--answer ")
	if !ok {
		t.Fatalf("the Solution block %q has no --answer", script)
	}
	if r := chrootlab.Quiz.Quiz.Grade(t.Context(), env.Host, answer); r.Status != checker.Pass {
		t.Fatalf("answer %q: %s %s", answer, r.Status, r.Reason)
	}
	if r := chrootlab.Quiz.Quiz.Grade(t.Context(), env.Host, "a,c"); r.Status != checker.Fail {
		t.Fatalf("answer a,c: %s, want fail", r.Status)
	}
}
