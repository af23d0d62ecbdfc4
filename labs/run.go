package labs

import (
	"context"
	"errors"
	"fmt"

	"github.com/lab-edu/lab/steps"
)

// CleanupThrough undoes steps last..0 of the lab in reverse order, which is
// everything a Setup of step `last` (built on earlier Solves) and its Solve
// can have made. It runs every Cleanup even when one fails.
func CleanupThrough(ctx context.Context, l Lab, last int, env *steps.Env) error {
	var errs []error
	for i := min(last, len(l.Steps)-1); i >= 0; i-- {
		if c := l.Steps[i].Cleanup; c != nil {
			if err := c(ctx, env); err != nil {
				errs = append(errs, fmt.Errorf("clean up %s: %w", l.Steps[i].ID, err))
			}
		}
	}
	return errors.Join(errs...)
}

// Reset removes everything the lab, or the student under the lab's names,
// created: every step's Cleanup, last step first, then the lab's own Reset.
// It is idempotent and works after a crash.
func Reset(ctx context.Context, l Lab, env *steps.Env) error {
	err := CleanupThrough(ctx, l, len(l.Steps)-1, env)
	if l.Reset != nil {
		if rerr := l.Reset(ctx, env); rerr != nil {
			err = errors.Join(err, fmt.Errorf("reset %s: %w", l.ID, rerr))
		}
	}
	return err
}

// Materials makes, in step order, what the lab's lessons hand the student
// (each step's Materials): the starting point of a submitted script, which
// is graded on a workspace without any step's Setup.
func Materials(ctx context.Context, l Lab, env *steps.Env) error {
	for _, s := range l.Steps {
		if s.Materials == nil {
			continue
		}
		if err := s.Materials(ctx, env); err != nil {
			return fmt.Errorf("materials of %s: %w", s.ID, err)
		}
	}
	return nil
}
