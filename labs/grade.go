package labs

import (
	"context"
	"time"

	"github.com/lab-edu/lab/checker"
)

// Grade verifies every step of the lab live against h and scores it. It
// never reads saved progress: a grade is what the kernel shows now.
func Grade(ctx context.Context, l Lab, h checker.Host) checker.Report {
	return GradeSettling(ctx, l, h, 0)
}

// recheckEvery is how often GradeSettling verifies a failing step again.
const recheckEvery = 100 * time.Millisecond

// GradeSettling is Grade for a machine that may still be settling. Right
// after a submitted script exits, what it started in the background (a
// jail that still has to pivot_root and detach its old root, a container
// on its way up) may not have reached its state yet, above all on a slow
// or emulated machine. So a step that does not pass is verified again
// every recheckEvery until it passes or settle has gone by since grading
// began. The window is shared by all steps: a submission with many wrong
// steps costs settle once, not once per step. Quiz answers do not settle
// and are checked once. A step that passes late is
// still a pass only of what the kernel shows: nothing is assumed.
func GradeSettling(ctx context.Context, l Lab, h checker.Host, settle time.Duration) checker.Report {
	deadline := time.Now().Add(settle)
	rep := checker.Report{Lab: l.ID, Title: l.Title}
	for _, s := range l.Steps {
		r := s.Verify(ctx, h)
		for !r.OK() && s.Quiz == nil && s.Check != nil && time.Now().Add(recheckEvery).Before(deadline) && sleep(ctx, recheckEvery) {
			r = s.Verify(ctx, h)
		}
		rep.Add(checker.NewStepReport(s.ID, s.Title, s.MaxPoints(), r))
	}
	return rep
}

// sleep waits d, or less when ctx ends; it reports whether ctx is still
// live, so a Ctrl-C stops the re-checks at once.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
