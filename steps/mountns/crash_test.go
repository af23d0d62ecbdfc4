package mountlab_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/kernel/reexec"
	"github.com/lab-edu/lab/steps"
	mountlab "github.com/lab-edu/lab/steps/mountns"
	"github.com/lab-edu/lab/steps/stepstest"
)

// solveAll is a child that sets up and solves the whole lab in the
// workspace given as its argument, until it is killed.
func solveAll() {
	dir := os.Args[1]
	env := &steps.Env{Dir: dir, Host: checker.LiveHost{Work: filepath.Dir(dir)}, Log: io.Discard, Answers: &stepstest.Answers{}}
	for _, s := range mountlab.Steps {
		for _, fn := range []func(context.Context, *steps.Env) error{s.Setup, s.Solve} {
			if fn != nil && fn(context.Background(), env) != nil {
				os.Exit(1)
			}
		}
	}
	os.Exit(0)
}

func init() { reexec.Register("mount-test-solve-all", solveAll) }

// TestResetAfterKilledSolve: `kill -9` of a solve midway, then the
// cleanups and Reset, leave no mount, process or file.
func TestResetAfterKilledSolve(t *testing.T) {
	for _, delay := range []time.Duration{30 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond} {
		t.Run(delay.String(), func(t *testing.T) {
			env := labEnv(t, len(mountlab.Steps)-1)
			cmd := reexec.Command("mount-test-solve-all", env.Dir)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(delay)
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			reset(t, env)
			entries, _ := os.ReadDir(env.Dir)
			for _, e := range entries {
				if e.Name() != "rootfs" {
					t.Errorf("left in the workspace after reset: %s", e.Name())
				}
			}
			if _, err := os.Stat(filepath.Join(env.Dir, "rootfs")); err == nil {
				t.Errorf("rootfs still there after reset")
			}
		})
	}
}

// reset is what `lab reset mount` runs: every Cleanup, last first, then
// Reset.
func reset(t *testing.T, env *steps.Env) {
	t.Helper()
	ctx := context.Background()
	for i := len(mountlab.Steps) - 1; i >= 0; i-- {
		if err := mountlab.Steps[i].Cleanup(ctx, env); err != nil {
			t.Errorf("clean up %s: %v", mountlab.Steps[i].ID, err)
		}
	}
	if err := mountlab.Reset(ctx, env); err != nil {
		t.Error(err)
	}
}
