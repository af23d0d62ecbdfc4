package checker_test

import (
	"context"
	"errors"
	"io/fs"
	"testing"

	"github.com/lab-edu/lab/checker"
)

func constant(r checker.Result) checker.Check {
	return func(context.Context, checker.Host) checker.Result { return r }
}

var (
	pass = constant(checker.Passed("a"))
	fail = constant(checker.Failed("b", "b is missing", "make b"))
)

func TestAllStopsAtFirstFailure(t *testing.T) {
	ran := false
	later := func(context.Context, checker.Host) checker.Result { ran = true; return checker.Passed("c") }
	r := checker.All("step", pass, fail, later)(t.Context(), nil)
	if r.Status != checker.Fail || r.Reason != "b is missing" || r.Hint != "make b" || r.Score != 0 {
		t.Errorf("All = %+v, want fail with b's reason and hint", r)
	}
	if ran || len(r.Parts) != 2 {
		t.Errorf("All ran the check after the failure (parts %d)", len(r.Parts))
	}
	if r := checker.All("step", pass, pass)(t.Context(), nil); !r.OK() || r.Score != 1 {
		t.Errorf("All(pass, pass) = %+v, want pass", r)
	}
}

func TestWeightedPartialCredit(t *testing.T) {
	r := checker.Weighted("step",
		checker.Part{Weight: 3, Check: pass},
		checker.Part{Weight: 1, Check: fail},
	)(t.Context(), nil)
	if r.Status != checker.Fail || r.Score != 0.75 || r.Reason != "b is missing" {
		t.Errorf("Weighted = %+v, want fail with score 0.75", r)
	}
	if len(r.Parts) != 2 {
		t.Errorf("Weighted ran %d parts, want every part", len(r.Parts))
	}
}

func TestSafeRecoversPanics(t *testing.T) {
	boom := func(context.Context, checker.Host) checker.Result { panic("boom") }
	if r := checker.Safe(boom)(t.Context(), nil); r.Status != checker.Error {
		t.Errorf("Safe(panic) = %+v, want error", r)
	}
}

func TestErroredPermissionIsSkip(t *testing.T) {
	err := &fs.PathError{Op: "open", Path: "/proc/1/root", Err: fs.ErrPermission}
	if r := checker.Errored("x", err); r.Status != checker.Skip || r.Hint == "" {
		t.Errorf("Errored(EPERM) = %+v, want skip with a hint", r)
	}
	if r := checker.Errored("x", errors.New("parse")); r.Status != checker.Error {
		t.Errorf("Errored(other) = %+v, want error", r)
	}
}

func TestMismatchSaysBoth(t *testing.T) {
	r := checker.Mismatch("hostname", "lab-uts", "debian", "set it inside the namespace")
	if r.Reason != "expected lab-uts, found debian" {
		t.Errorf("Mismatch reason = %q", r.Reason)
	}
}
