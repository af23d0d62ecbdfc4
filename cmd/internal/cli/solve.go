package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/content"
	"github.com/lab-edu/lab/labs"
)

type solveOptions struct {
	f      *Factory
	StepID string
	Show   bool
}

func newCmdSolve(f *Factory, runF func(*solveOptions) error) *cobra.Command {
	opts := &solveOptions{f: f}
	cmd := &cobra.Command{
		Use:   "solve [step]",
		Short: "Apply the reference solution (recorded as solved, not passed)",
		Long: `Apply the reference solution of the current step (or STEP). The step is
recorded as solved, not passed. With --show, print the shell commands of
the solution instead, and change nothing.`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: completeSteps(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.StepID = args[0]
			}
			if runF != nil {
				return runF(opts)
			}
			return interrupted(cmd.Context(), runSolve(cmd.Context(), opts))
		},
	}
	cmd.Flags().BoolVar(&opts.Show, "show", false, "print the solution's shell commands; run nothing")
	return cmd
}

func runSolve(ctx context.Context, opts *solveOptions) error {
	f := opts.f
	p, l, i, err := loadStep(f, opts.StepID)
	if err != nil {
		return err
	}
	s := l.Steps[i]
	if opts.Show {
		doc, err := stepDoc(s.ID, f.Lang)
		if err != nil || strings.TrimSpace(doc.Shell()) == "" {
			return fmt.Errorf("no written solution for %s", s.ID)
		}
		fmt.Fprintf(f.IO.Out, "# %s: %s\n%s", s.ID, s.Title, content.Render(doc.Shell(), workspace(f, l.ID)))
		return nil
	}
	if err := requireRoot(f); err != nil {
		return err
	}
	if s.Solve == nil {
		return fmt.Errorf("%s has no reference solution", s.ID)
	}
	// A step named explicitly, other than the current one, may need the
	// state it starts from: build it first, as lab goto does.
	if opts.StepID != "" && opts.StepID != p.Current {
		if err := setupStep(ctx, f, l, i); err != nil {
			return err
		}
	} else if err := ensureWorkspace(f, l.ID); err != nil {
		return err
	}
	// Progress is written only after Solve returned and the check passed:
	// Ctrl-C or a kill midway leaves the step recorded as it was, and
	// `lab solve` again or `lab reset` finishes or undoes the half work.
	if err := s.Solve(ctx, stepEnv(f, l.ID)); err != nil {
		if ctx.Err() != nil {
			return &ExitError{Code: ExitInterrupted, Err: fmt.Errorf("interrupted: %s may be half applied; run `sudo lab solve %s` again or `sudo lab reset %s`", s.ID, s.ID, l.ID)}
		}
		return fmt.Errorf("solve %s: %w", s.ID, err)
	}
	r := s.Verify(ctx, f.Host())
	if ctx.Err() != nil {
		return interrupted(ctx, ctx.Err())
	}
	checker.WriteStepText(f.IO.Out, checker.NewStepReport(s.ID, s.Title, s.MaxPoints(), r), checker.TextOptions{Color: f.IO.IsTerminal()})
	if !r.OK() {
		return fmt.Errorf("the reference solution of %s does not pass its check: this is a bug in lab, please report it", s.ID)
	}
	if err := updateProgress(f, func(p *labs.Progress) error {
		p.MarkSolved(s.ID, time.Now())
		p.Current = l.Steps[min(i+1, len(l.Steps)-1)].ID
		return nil
	}); err != nil {
		return err
	}
	fmt.Fprintf(f.IO.Out, "%s is solved (recorded as solved, not passed).\n\n", s.ID)
	showNext(f, l, i)
	return nil
}
