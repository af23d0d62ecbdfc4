package labs_test

import (
	"context"
	"os"
	"testing"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/kernel/kerneltest"
	"github.com/lab-edu/lab/kernel/reexec"
	"github.com/lab-edu/lab/labs"
	"github.com/lab-edu/lab/steps/stepstest"
)

func TestMain(m *testing.M) {
	if reexec.Init() { // probes re-execute the test binary
		return
	}
	os.Exit(m.Run())
}

// TestStepLifecycle is rustlings' `dev check` for every step: unsolved
// fails, solved passes, and cleanup leaves the host as it found it.
func TestStepLifecycle(t *testing.T) {
	for _, lab := range labs.All() {
		for i, s := range lab.Steps {
			t.Run(s.ID, func(t *testing.T) {
				kerneltest.Requires(t, kerneltest.Root)
				ctx, env := t.Context(), stepstest.NewEnv(t, lab.ID)
				before := stepstest.Snapshot(t)
				// t.Context is already cancelled when Cleanup functions run.
				t.Cleanup(func() { _ = labs.CleanupThrough(context.Background(), lab, i, env) })
				stepstest.Do(t, s.Setup, ctx, env)
				if r := s.Verify(ctx, env.Host); r.Status != checker.Fail {
					t.Fatalf("unsolved: status = %s, want fail (%s)", r.Status, r.Reason)
				} else if r.Reason == "" {
					t.Fatalf("unsolved: a failing check must say why")
				}
				stepstest.Do(t, s.Solve, ctx, env)
				if r := s.Verify(ctx, env.Host); r.Status != checker.Pass {
					t.Fatalf("solved: status = %s, want pass: %s (hint: %s)", r.Status, r.Reason, r.Hint)
				}
				// Setup may have built earlier steps' state: undo this step and those.
				if err := labs.CleanupThrough(ctx, lab, i, env); err != nil {
					t.Fatal(err)
				}
				stepstest.Same(t, before, stepstest.Snapshot(t))
			})
		}
	}
}
