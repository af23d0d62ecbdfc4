package chrootlab

import (
	"context"
	"errors"
	"time"
)

// waitFor polls cond every 10 ms for up to five seconds: a started child
// needs a moment to chroot or pivot before a check can see it.
func waitFor(ctx context.Context, cond func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			return errors.New("chroot: the started process did not reach its root in time")
		case <-time.After(10 * time.Millisecond):
		}
	}
	return nil
}
