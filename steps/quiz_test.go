package steps_test

import (
	"testing"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/steps"
	"github.com/lab-edu/lab/steps/stepstest"
)

func TestMultipleChoice(t *testing.T) {
	q := steps.MultipleChoice("Which isolate?", []string{"x", "y", "z"}, "a", "c")
	tests := []struct {
		answer string
		want   checker.Status
	}{
		{"a,c", checker.Pass},
		{"C A", checker.Pass},
		{"a", checker.Fail},
		{"a,b,c", checker.Fail},
		{"q", checker.Fail},
	}
	for _, tt := range tests {
		if r := q.Grade(t.Context(), nil, tt.answer); r.Status != tt.want {
			t.Errorf("Grade(%q) = %s (%s), want %s", tt.answer, r.Status, r.Reason, tt.want)
		}
	}
}

func TestQuizStepLifecycleWithoutRoot(t *testing.T) {
	q := steps.MultipleChoice("2+2?", []string{"3", "4"}, "b")
	s := steps.Step{ID: "demo/quiz", Title: "A quiz", Quiz: q, Solve: steps.SolveQuiz("demo/quiz", q), Cleanup: steps.ClearQuiz("demo/quiz")}
	env := stepstest.NewEnv(t, "demo")
	if r := s.Verify(t.Context(), env.Host); r.Status != checker.Fail || r.Hint == "" {
		t.Fatalf("unanswered = %+v, want fail with a hint", r)
	}
	stepstest.Do(t, s.Solve, t.Context(), env)
	if r := s.Verify(t.Context(), env.Host); !r.OK() {
		t.Fatalf("solved = %+v, want pass", r)
	}
	stepstest.Do(t, s.Cleanup, t.Context(), env)
	if _, ok := env.Host.Answer("demo/quiz"); ok {
		t.Fatal("cleanup left the answer")
	}
}

func TestStepIDParts(t *testing.T) {
	s := steps.Step{ID: "netns/named"}
	if s.Lab() != "netns" || s.Slug() != "named" || s.MaxPoints() != steps.DefaultPoints {
		t.Errorf("Lab/Slug/MaxPoints = %s %s %d", s.Lab(), s.Slug(), s.MaxPoints())
	}
}
