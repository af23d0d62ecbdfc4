// Package labs holds the lab catalogue and the learner's progress.
package labs

import (
	"context"
	"fmt"
	"strings"

	"github.com/lab-edu/lab/steps"
)

// Lab is an ordered list of steps with a title. Its intro and finish text
// live in content/labs/<ID>.md.
type Lab struct {
	ID       string
	Title    string
	Summary  string
	Requires []string // labs worth doing first (advice only)
	Steps    []steps.Step
	// Reset removes what the lab, or the student under the lab's names,
	// created beyond what the steps' Cleanups remove (for example stray
	// processes found by property). Nil means the Cleanups are enough.
	Reset func(ctx context.Context, env *steps.Env) error
}

// Find returns the lab with this ID.
func Find(all []Lab, id string) (Lab, error) {
	for _, l := range all {
		if l.ID == id {
			return l, nil
		}
	}
	return Lab{}, fmt.Errorf("unknown lab %q: run `lab list` to see the labs", id)
}

// FindStep returns the lab and index of step ID (for example "chroot/rootfs").
// A bare slug is not accepted: step IDs always name their lab.
func FindStep(all []Lab, id string) (Lab, int, error) {
	labID, _, ok := strings.Cut(id, "/")
	if !ok {
		return Lab{}, 0, fmt.Errorf("unknown step %q: step IDs look like LAB/STEP, run `lab list` to see them", id)
	}
	lab, err := Find(all, labID)
	if err != nil {
		return Lab{}, 0, fmt.Errorf("unknown step %q: run `lab list` to see the steps", id)
	}
	for i, s := range lab.Steps {
		if s.ID == id {
			return lab, i, nil
		}
	}
	return Lab{}, 0, fmt.Errorf("unknown step %q: run `lab list %s` to see the steps of %s", id, labID, labID)
}

// MaxPoints is what the whole lab is worth.
func (l Lab) MaxPoints() int {
	total := 0
	for _, s := range l.Steps {
		total += s.MaxPoints()
	}
	return total
}
