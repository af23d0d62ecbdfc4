package checker

import (
	"context"
	"fmt"
)

// All passes when every check passes. It stops at the first check that does
// not pass and returns that check's reason and hint, so the learner sees the
// first thing to fix; Parts lists what ran.
func All(name string, checks ...Check) Check {
	return func(ctx context.Context, h Host) Result {
		parts := make([]Result, 0, len(checks))
		for _, c := range checks {
			r := c(ctx, h)
			parts = append(parts, r)
			if !r.OK() {
				out := r
				out.Name = name
				out.Score = 0
				out.Parts = parts
				return out
			}
		}
		return Result{Name: name, Status: Pass, Score: 1, Parts: parts}
	}
}

// Part is one weighted piece of a step, for partial credit.
type Part struct {
	Weight float64
	Check  Check
}

// Weighted runs every part (unlike All, it does not stop) and scores the
// passed fraction of the total weight. The status is the first non-pass
// part's status, and its reason and hint are the result's, so the learner
// still gets one thing to fix first.
func Weighted(name string, parts ...Part) Check {
	return func(ctx context.Context, h Host) Result {
		out := Result{Name: name, Status: Pass}
		var got, total float64
		for _, p := range parts {
			r := p.Check(ctx, h)
			out.Parts = append(out.Parts, r)
			total += p.Weight
			got += p.Weight * r.Score
			if !r.OK() && out.Status == Pass {
				out.Status, out.Reason, out.Hint = r.Status, r.Reason, r.Hint
				out.Expected, out.Found = r.Expected, r.Found
			}
		}
		if total > 0 {
			out.Score = got / total
		}
		if out.Status == Pass {
			out.Score = 1
		}
		return out
	}
}

// Safe runs c and turns a panic into an Error result, so one broken check
// never takes down a whole grading run.
func Safe(c Check) Check {
	return func(ctx context.Context, h Host) (r Result) {
		defer func() {
			if p := recover(); p != nil {
				r = Result{Status: Error, Reason: fmt.Sprintf("check panicked: %v", p)}
			}
		}()
		return c(ctx, h)
	}
}
