package labs_test

import (
	"context"
	"testing"
	"time"

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

// lateStep passes from its n-th check on, like a jail that a script
// started in the background and that detaches its old root a moment
// after the script has exited.
func lateStep(id string, n int, calls *int) steps.Step {
	return steps.Step{ID: id, Title: id, Check: func(context.Context, checker.Host) checker.Result {
		*calls++
		if *calls < n {
			return checker.Failed("jail", "/old_root is still attached", "umount -l /old_root")
		}
		return checker.Passed("jail")
	}}
}

func TestGradeSettlingRechecksFailingSteps(t *testing.T) {
	var lateCalls, wrongCalls, quizCalls int
	quiz := &steps.Quiz{Grade: func(context.Context, checker.Host, string) checker.Result {
		quizCalls++
		return checker.Failed("quiz", "wrong answer", "read the lesson again")
	}}
	host := checker.LiveHost{Answers: func(string) (string, bool) { return "b", true }}
	lab := labs.Lab{ID: "t", Steps: []steps.Step{
		lateStep("t/late", 3, &lateCalls),
		lateStep("t/wrong", 1<<30, &wrongCalls), // never passes
		{ID: "t/quiz", Quiz: quiz},
	}}

	// Plain Grade checks once: the late step fails.
	rep := labs.Grade(context.Background(), lab, host)
	if lateCalls != 1 || wrongCalls != 1 || rep.Steps[0].Result.OK() {
		t.Fatalf("Grade: late checked %d times (passed %v), wrong %d times; want 1, false, 1",
			lateCalls, rep.Steps[0].Result.OK(), wrongCalls)
	}

	// Settling: the late step passes on its third check; the wrong one is
	// re-checked within the window only, and still fails.
	lateCalls, wrongCalls = 0, 0
	settle := 600 * time.Millisecond
	rep = labs.GradeSettling(context.Background(), lab, host, settle)
	if !rep.Steps[0].Result.OK() || lateCalls != 3 {
		t.Errorf("late step: passed %v after %d checks, want true after 3", rep.Steps[0].Result.OK(), lateCalls)
	}
	if rep.Steps[1].Result.OK() || wrongCalls < 2 || wrongCalls > int(settle/(100*time.Millisecond))+1 {
		t.Errorf("wrong step: passed %v after %d checks, want a failure after 2..%d", rep.Steps[1].Result.OK(), wrongCalls, settle/(100*time.Millisecond)+1)
	}
	if quizCalls != 2 {
		t.Errorf("the quiz was graded %d times in two gradings, want 2: answers do not settle", quizCalls)
	}

	// Ctrl-C ends the window at once.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	wrongCalls = 0
	labs.GradeSettling(ctx, lab, host, time.Hour)
	if wrongCalls != 1 {
		t.Errorf("cancelled grading checked the wrong step %d times, want 1", wrongCalls)
	}
}
