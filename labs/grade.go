package labs

import (
	"context"

	"github.com/lab-edu/lab/checker"
)

// Grade verifies every step of the lab live against h and scores it. It
// never reads saved progress: a grade is what the kernel shows now.
func Grade(ctx context.Context, l Lab, h checker.Host) checker.Report {
	rep := checker.Report{Lab: l.ID, Title: l.Title}
	for _, s := range l.Steps {
		r := s.Verify(ctx, h)
		rep.Add(checker.NewStepReport(s.ID, s.Title, s.MaxPoints(), r))
	}
	return rep
}
