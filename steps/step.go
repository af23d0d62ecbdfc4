// Package steps defines what a lab step is: a declared value with a check,
// and optional setup, reference solution and cleanup.
package steps

import (
	"context"
	"io"
	"strings"

	"github.com/lab-edu/lab/checker"
)

// DefaultPoints is what a step is worth when it does not say.
const DefaultPoints = 10

// Step is one task in a lab. ID, Title and Check (or Quiz) are required; a
// nil Setup, Solve or Cleanup is skipped by the runner.
//
// The prose (goal, background, task, hints, explanation and the shell form
// of the solution) lives in content/steps/<ID>.md, keyed by ID.
type Step struct {
	ID     string // "<lab>/<slug>", stable forever; also the content key
	Title  string
	Points int // 0 means DefaultPoints

	// Setup prepares the starting state of this step, calling earlier
	// steps' Solve where the step builds on them, so that `lab goto` and
	// the lifecycle test work on any step alone.
	Setup func(ctx context.Context, env *Env) error
	// Materials makes what the lesson hands the student for this step and
	// is worth no points by itself (a root file system to pivot into, the
	// layers of an overlay, a program's skeleton); Setup makes them too.
	// Grading a submitted script (lab grade --submission) runs the
	// Materials of every step, and no Setup (which may solve earlier
	// steps), before the script. Idempotent.
	Materials func(ctx context.Context, env *Env) error
	// Check is read-only and decides pass or fail. Quiz steps leave it nil.
	Check checker.Check
	// Quiz makes this a question step, graded from the recorded answer.
	Quiz *Quiz
	// Solve reaches the solved state (the reference solution).
	Solve func(ctx context.Context, env *Env) error
	// Cleanup removes everything this step, or the student under this
	// step's names, created. It is idempotent and works after a crash.
	Cleanup func(ctx context.Context, env *Env) error
}

// Lab returns the lab part of the step ID ("netns" of "netns/named").
func (s Step) Lab() string {
	lab, _, _ := strings.Cut(s.ID, "/")
	return lab
}

// Slug returns the step part of the step ID ("named" of "netns/named").
func (s Step) Slug() string {
	_, slug, _ := strings.Cut(s.ID, "/")
	return slug
}

// MaxPoints returns what the step is worth.
func (s Step) MaxPoints() int {
	if s.Points == 0 {
		return DefaultPoints
	}
	return s.Points
}

// Verify runs the step's check, or grades its quiz answer, and never
// panics.
func (s Step) Verify(ctx context.Context, h checker.Host) checker.Result {
	c := s.Check
	if s.Quiz != nil && c == nil {
		c = s.Quiz.check(s.ID)
	}
	if c == nil {
		return checker.Result{Name: s.ID, Status: checker.Error, Reason: "step " + s.ID + " has no check"}
	}
	r := checker.Safe(c)(ctx, h)
	if r.Name == "" {
		r.Name = s.Title
	}
	return r
}

// Env is everything a step's Setup, Solve and Cleanup may use. Steps never
// write to os.Stdout; progress goes to Log.
type Env struct {
	Dir     string       // this lab's workspace: Host.Workspace()/<lab>
	Host    checker.Host // the same read-only view the checker gets
	Log     io.Writer    // progress lines for Setup and Solve
	Answers AnswerStore  // where quiz answers are recorded
}

// AnswerStore records quiz answers (the state file, or memory in tests).
type AnswerStore interface {
	SetAnswer(stepID, answer string) error
	ClearAnswer(stepID string) error
}
