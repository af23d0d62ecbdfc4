package labs_test

import (
	"context"
	"testing"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/labs"
	"github.com/lab-edu/lab/steps"
)

func TestGradeScoresEveryStepLive(t *testing.T) {
	calls := 0
	pass := func(context.Context, checker.Host) checker.Result { calls++; return checker.Passed("ok") }
	half := checker.Weighted("half",
		checker.Part{Weight: 1, Check: pass},
		checker.Part{Weight: 1, Check: func(context.Context, checker.Host) checker.Result {
			return checker.Failed("missing", "not there", "do it")
		}})
	lab := labs.Lab{ID: "t", Title: "Test", Steps: []steps.Step{
		{ID: "t/a", Title: "A", Check: pass},
		{ID: "t/b", Title: "B", Points: 20, Check: half},
		{ID: "t/c", Title: "C"}, // no check: an error, not a crash
	}}
	rep := labs.Grade(context.Background(), lab, checker.LiveHost{})
	if calls != 2 {
		t.Errorf("checks ran %d times, want 2", calls)
	}
	if rep.Lab != "t" || len(rep.Steps) != 3 || rep.Points != 20 || rep.MaxPoints != 40 {
		t.Fatalf("report = %+v, want 20/40 over 3 steps", rep)
	}
	if rep.Steps[1].Points != 10 || rep.Steps[2].Result.Status != checker.Error {
		t.Errorf("steps = %+v", rep.Steps)
	}
	if rep.Passed() {
		t.Error("Passed() = true")
	}
}
