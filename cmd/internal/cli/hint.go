package cli

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/content"
	"github.com/lab-edu/lab/labs"
)

type hintOptions struct {
	f      *Factory
	StepID string
}

func newCmdHint(f *Factory, runF func(*hintOptions) error) *cobra.Command {
	opts := &hintOptions{f: f}
	return &cobra.Command{
		Use:               "hint [step]",
		Short:             "Show one more hint for the current step (or STEP)",
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: completeSteps(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.StepID = args[0]
			}
			if runF != nil {
				return runF(opts)
			}
			return interrupted(cmd.Context(), runHint(cmd.Context(), opts))
		},
	}
}

// runHint reveals the next bullet of the step's Hints section (the count
// is saved, so each call shows one more), then, when the step's check
// fails right now, the check's own hint about what it found.
func runHint(ctx context.Context, opts *hintOptions) error {
	f := opts.f
	p, l, i, err := loadStep(f, opts.StepID)
	if err != nil {
		return err
	}
	s := l.Steps[i]
	doc, _ := stepDoc(s.ID, f.Lang)
	hints := doc.HintList()
	shown := p.Step(s.ID).Hints
	if shown < len(hints) {
		err := updateProgress(f, func(p *labs.Progress) error {
			shown = p.RevealHint(s.ID, len(hints))
			return nil
		})
		if errors.Is(err, os.ErrPermission) || exitCode(err) == ExitEnv {
			shown++ // not root: show it anyway, it just is not remembered
			fmt.Fprintln(f.IO.ErrOut, "(hint not recorded: run `sudo lab hint` to keep count)")
		} else if err != nil {
			return err
		}
	}
	work := workspace(f, l.ID)
	switch {
	case len(hints) == 0:
		fmt.Fprintf(f.IO.Out, "%s has no written hints.\n", s.ID)
	default:
		for n := range min(shown, len(hints)) {
			fmt.Fprintf(f.IO.Out, "Hint %d/%d: %s\n", n+1, len(hints), content.Render(hints[n], work))
		}
		if shown >= len(hints) {
			fmt.Fprintf(f.IO.Out, "That was the last hint: `lab solve --show %s` prints the solution.\n", s.ID)
		}
	}
	// A fresh check can say what it sees, for example "veth-red exists but
	// is DOWN". Without root, most checks cannot look: then say nothing.
	if r := s.Verify(ctx, f.Host()); r.Status == checker.Fail && (r.Hint != "" || r.Reason != "") {
		fmt.Fprintf(f.IO.Out, "\nFrom what the checker sees now: %s\n", r.Reason)
		if r.Hint != "" {
			fmt.Fprintf(f.IO.Out, "  try: %s\n", r.Hint)
		}
	}
	return nil
}
