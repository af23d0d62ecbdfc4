// Package checker is the verification engine of lab: a Check looks at live
// kernel state through a read-only Host and returns a Result that says what
// was expected, what was found, and what to try next.
package checker

import (
	"context"
	"errors"
	"io/fs"
)

// Status is the outcome of one check.
type Status string

const (
	Pass  Status = "pass"
	Fail  Status = "fail"  // the learner's work is not there yet
	Skip  Status = "skip"  // a precondition is missing (not root, no cgroup v2): not their fault
	Error Status = "error" // the checker itself broke: our bug
)

// Result says what was observed, in system terms, and what to try next.
//
// Score is the fraction of the check that passed, in [0,1]: 1 for a pass,
// 0 for anything else, or a weighted part for checks built with Weighted,
// which is how a step earns partial credit.
type Result struct {
	Name     string   `json:"name"`
	Status   Status   `json:"status"`
	Score    float64  `json:"score"`
	Expected string   `json:"expected,omitempty"`
	Found    string   `json:"found,omitempty"`
	Reason   string   `json:"reason,omitempty"` // one line, in system terms
	Hint     string   `json:"hint,omitempty"`   // a targeted hint from what was found
	Evidence []string `json:"evidence,omitempty"`
	Parts    []Result `json:"parts,omitempty"` // sub-checks, for All and Weighted
}

// Check decides whether something is there. It must not change the host:
// where it has to see a thing work it starts its own short-lived probe and
// removes it before returning.
type Check func(ctx context.Context, h Host) Result

// Host is the read-only world a check sees. LiveHost is the real machine;
// checkertest.FakeHost implements it over an fstest.MapFS.
type Host interface {
	// FS is the machine's filesystem rooted at "/" (so "proc/1/status").
	FS() fs.FS
	// Workspace is the absolute path under which each lab has its working
	// directory: Workspace()/<lab>.
	Workspace() string
	// Answer is the learner's recorded answer to a quiz step, if any.
	Answer(stepID string) (string, bool)
}

// Passed reports success.
func Passed(name string, evidence ...string) Result {
	return Result{Name: name, Status: Pass, Score: 1, Evidence: evidence}
}

// Failed reports that the learner's work is not there yet. reason says what
// was found; hint says what to try.
func Failed(name, reason, hint string) Result {
	return Result{Name: name, Status: Fail, Reason: reason, Hint: hint}
}

// Mismatch is Failed with the expected and found values spelled out.
func Mismatch(name, expected, found, hint string) Result {
	return Result{
		Name: name, Status: Fail, Expected: expected, Found: found,
		Reason: "expected " + expected + ", found " + found, Hint: hint,
	}
}

// Skipped reports a missing precondition that is not the learner's fault.
func Skipped(name, reason, hint string) Result {
	return Result{Name: name, Status: Skip, Reason: reason, Hint: hint}
}

// Errored reports that the checker itself could not decide. Permission
// errors become a Skip with the hint to use sudo, since that is what they
// almost always mean.
func Errored(name string, err error) Result {
	if errors.Is(err, fs.ErrPermission) {
		return Skipped(name, err.Error(), "run with sudo: checks read kernel state only root can see")
	}
	return Result{Name: name, Status: Error, Reason: err.Error()}
}

// OK reports whether the result is a pass.
func (r Result) OK() bool { return r.Status == Pass }
