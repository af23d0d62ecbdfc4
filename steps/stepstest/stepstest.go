// Package stepstest helps test steps: an Env in a temporary workspace, and
// snapshots of the kernel state a lab may touch, to prove that a step's
// Cleanup leaves the host exactly as it found it.
package stepstest

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/steps"
)

// Answers is an in-memory steps.AnswerStore.
type Answers struct {
	mu sync.Mutex
	m  map[string]string
}

// SetAnswer records answer for stepID.
func (a *Answers) SetAnswer(stepID, answer string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.m == nil {
		a.m = map[string]string{}
	}
	a.m[stepID] = answer
	return nil
}

// ClearAnswer forgets stepID's answer.
func (a *Answers) ClearAnswer(stepID string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.m, stepID)
	return nil
}

// Answer returns stepID's answer.
func (a *Answers) Answer(stepID string) (string, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	v, ok := a.m[stepID]
	return v, ok
}

// NewEnv returns an Env for lab whose workspace is a fresh temporary
// directory, with a live host view and in-memory quiz answers. Log goes to
// the test log when -v is given.
func NewEnv(t testing.TB, lab string) *steps.Env {
	t.Helper()
	LockLab(t, lab) // one test of this lab at a time, across test binaries
	root := t.TempDir()
	// t.TempDir is 0700 under a 0700 parent; steps that run probes as an
	// unprivileged uid need to reach their workspace.
	_ = os.Chmod(root, 0o755)
	_ = os.Chmod(filepath.Dir(root), 0o755)
	work := filepath.Join(root, "work")
	dir := filepath.Join(work, lab)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	answers := &Answers{}
	return &steps.Env{
		Dir:     dir,
		Host:    checker.LiveHost{Work: work, Answers: answers.Answer},
		Log:     testLog{t},
		Answers: answers,
	}
}

type testLog struct{ t testing.TB }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Helper()
	l.t.Log(string(p))
	return len(p), nil
}

// Do runs a step function when it is not nil and fails the test on error.
func Do(t testing.TB, fn func(context.Context, *steps.Env) error, ctx context.Context, env *steps.Env) {
	t.Helper()
	if fn == nil {
		return
	}
	if err := fn(ctx, env); err != nil {
		t.Fatal(err)
	}
}

var _ io.Writer = testLog{}
