package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lab-edu/lab/labs"
)

type startOptions struct {
	f   *Factory
	Lab string // empty: ask on a terminal
}

func newCmdStart(f *Factory, runF func(*startOptions) error) *cobra.Command {
	opts := &startOptions{f: f}
	return &cobra.Command{
		Use:               "start [lab]",
		Short:             "Start a lab: set up its first step and show it",
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: completeLabs(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Lab = args[0]
			}
			if runF != nil {
				return runF(opts)
			}
			return interrupted(cmd.Context(), runStart(cmd.Context(), opts))
		},
	}
}

func runStart(ctx context.Context, opts *startOptions) error {
	f := opts.f
	l, err := pickLab(f, opts.Lab)
	if err != nil {
		return err
	}
	if len(l.Steps) == 0 {
		return FlagError("lab %s has no steps yet: run `lab list` to see the labs", l.ID)
	}
	if err := requireRoot(f); err != nil {
		return err
	}
	p, err := loadProgress(f)
	if err != nil {
		return err
	}
	// Starting the lab you are in resumes it: step 1's setup would
	// rebuild the start state over the work you did since.
	if cur, i, ok := currentStep(f.Labs(), p); ok && cur.ID == l.ID && i > 0 {
		fmt.Fprintf(f.IO.ErrOut, "resuming %s at step %d/%d (`sudo lab reset %s` starts over, `sudo lab goto STEP` jumps)\n", l.ID, i+1, len(l.Steps), l.ID)
		showStep(f, l, i)
		return nil
	}
	if err := setupStep(ctx, f, l, 0); err != nil {
		return err
	}
	if intro := labSection(f, l, "Intro"); intro != "" {
		printMarkdown(f.IO, "# "+l.Title+"\n\n"+intro)
		fmt.Fprintln(f.IO.Out)
	}
	showStep(f, l, 0)
	return nil
}

// pickLab returns the named lab, or asks for one on a terminal.
func pickLab(f *Factory, id string) (labs.Lab, error) {
	all := f.Labs()
	if id != "" {
		return findLab(f, id)
	}
	var ids []string
	for _, l := range all {
		ids = append(ids, l.ID)
	}
	if !canPrompt(f) || len(all) == 0 {
		return labs.Lab{}, FlagError("name a lab: lab start LAB (labs: %s)", strings.Join(ids, ", "))
	}
	options := make([]string, len(all))
	for i, l := range all {
		options[i] = fmt.Sprintf("%-10s %s", l.ID, l.Title)
	}
	i, err := f.Prompter.Select("Which lab?", options)
	if err != nil {
		return labs.Lab{}, promptError(err)
	}
	return all[i], nil
}

// setupStep makes the workspace, runs step i's Setup (which builds its
// starting state, using earlier steps' solutions where needed) and makes
// it the current step. Progress changes only once the setup is complete.
func setupStep(ctx context.Context, f *Factory, l labs.Lab, i int) error {
	if err := ensureWorkspace(f, l.ID); err != nil {
		return err
	}
	s := l.Steps[i]
	if s.Setup != nil {
		if err := s.Setup(ctx, stepEnv(f, l.ID)); err != nil {
			if ctx.Err() != nil {
				return &ExitError{Code: ExitInterrupted, Err: fmt.Errorf("interrupted while setting up %s: run `sudo lab goto %s` again, or `sudo lab reset %s`", s.ID, s.ID, l.ID)}
			}
			return fmt.Errorf("set up %s: %w (try `sudo lab reset %s`, then again)", s.ID, err, l.ID)
		}
	}
	return updateProgress(f, func(p *labs.Progress) error {
		p.Current = s.ID
		return nil
	})
}
