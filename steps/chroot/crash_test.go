package chrootlab_test

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
	chrootlab "github.com/lab-edu/lab/steps/chroot"
	"github.com/lab-edu/lab/steps/stepstest"
)

// solveAll is a child that solves the whole lab in the workspace given as
// its argument, like `lab solve` would, until it is killed.
func solveAll() {
	dir := os.Args[1]
	env := &steps.Env{Dir: dir, Host: checker.LiveHost{Work: filepath.Dir(dir)}, Log: io.Discard, Answers: &stepstest.Answers{}}
	for _, s := range chrootlab.Steps {
		if s.Solve != nil {
			if err := s.Solve(context.Background(), env); err != nil {
				os.Exit(1)
			}
		}
	}
	os.Exit(0)
}

func init() { reexec.Register("chroot-test-solve-all", solveAll) }

// TestResetAfterKilledSolve: `kill -9` of a solve midway, then Reset,
// leaves no mount, process or file.
func TestResetAfterKilledSolve(t *testing.T) {
	for _, delay := range []time.Duration{30 * time.Millisecond, 250 * time.Millisecond, 600 * time.Millisecond} {
		t.Run(delay.String(), func(t *testing.T) {
			env := labEnv(t, len(chrootlab.Steps)-1)
			cmd := reexec.Command("chroot-test-solve-all", env.Dir)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(delay)
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			reset(t, env)
			if _, err := os.Stat(filepath.Join(env.Dir, "rootfs")); err == nil {
				t.Errorf("rootfs still there after reset")
			}
			// labEnv's cleanup runs every Cleanup and Reset again (they are
			// idempotent) and compares the host with before.
		})
	}
}

// reset is what `lab reset chroot` runs: every Cleanup, last first, then
// Reset.
func reset(t *testing.T, env *steps.Env) {
	t.Helper()
	ctx := context.Background()
	for i := len(chrootlab.Steps) - 1; i >= 0; i-- {
		if c := chrootlab.Steps[i].Cleanup; c != nil {
			if err := c(ctx, env); err != nil {
				t.Errorf("clean up %s: %v", chrootlab.Steps[i].ID, err)
			}
		}
	}
	if err := chrootlab.Reset(ctx, env); err != nil {
		t.Error(err)
	}
}
