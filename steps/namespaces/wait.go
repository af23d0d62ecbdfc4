package nslab

import (
	"context"
	"errors"
	"time"
)

// waitFor polls cond until it holds, for at most two seconds: a process
// Solve just started needs a moment to set its namespace up.
func waitFor(ctx context.Context, cond func() bool) error {
	deadline := time.Now().Add(2 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			return errors.New("the started process did not reach the expected state within 2s")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}
