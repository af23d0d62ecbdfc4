package cli

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/lab-edu/lab/labs"
)

type resetOptions struct {
	f   *Factory
	Lab string
	All bool
}

func newCmdReset(f *Factory, runF func(*resetOptions) error) *cobra.Command {
	opts := &resetOptions{f: f}
	cmd := &cobra.Command{
		Use:   "reset [lab | --all]",
		Short: "Remove everything a lab created, its workspace and its progress",
		Long: `Remove everything the lab (or you, under the lab's names) created in the
kernel, its workspace directory and its progress. Without LAB, the current
lab. It is safe to run twice, and after a crash. --all does every lab and
starts progress over, even from an unreadable state file.`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: completeLabs(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Lab = args[0]
			}
			if runF != nil {
				return runF(opts)
			}
			return runReset(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.All, "all", false, "reset every lab and all progress")
	return cmd
}

func runReset(ctx context.Context, opts *resetOptions) error {
	f := opts.f
	if opts.All && opts.Lab != "" {
		return FlagError("give a lab or --all, not both")
	}
	if opts.All {
		if err := requireRoot(f); err != nil {
			return err
		}
		return resetAll(ctx, f)
	}
	var l labs.Lab
	if opts.Lab != "" {
		var err error
		if l, err = findLab(f, opts.Lab); err != nil {
			return err
		}
	}
	p, err := loadProgress(f)
	if err != nil {
		return err
	}
	if opts.Lab == "" {
		cur, _, ok := currentStep(f.Labs(), p)
		if !ok {
			return FlagError("no current lab: name one (lab reset LAB) or use --all")
		}
		l = cur
	}
	if err := requireRoot(f); err != nil {
		return err
	}
	if err := resetLab(ctx, f, l); err != nil {
		return err
	}
	fmt.Fprintf(f.IO.Out, "%s is reset: nothing of it is left, `sudo lab start %s` begins again.\n", l.ID, l.ID)
	return nil
}

// resetAllHooks remove, on reset --all, what lab makes outside any lab
// (the mini-Docker's containers); the files that own those objects add
// themselves from an init function.
var resetAllHooks []func(context.Context, *Factory) error

// resetAll resets every lab, then clears progress whatever its state.
func resetAll(ctx context.Context, f *Factory) error {
	var errs []error
	for _, l := range f.Labs() {
		ctx := context.WithoutCancel(ctx)
		env := stepEnv(f, l.ID)
		env.Answers = discardAnswers{} // all answers go with the progress below
		if err := labs.Reset(ctx, l, env); err != nil {
			errs = append(errs, err)
		}
		if err := removeWorkspace(workspace(f, l.ID)); err != nil {
			errs = append(errs, err)
		}
	}
	for _, reset := range resetAllHooks {
		if err := reset(ctx, f); err != nil {
			errs = append(errs, err)
		}
	}
	kept, err := f.Store().Clear()
	if err != nil {
		errs = append(errs, stateError(err))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := os.Remove(f.Work()); err != nil && !errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(f.IO.ErrOut, "note: %s is not empty, left as it is\n", f.Work())
	}
	if kept != "" {
		fmt.Fprintf(f.IO.Out, "The unreadable state file was kept as %s.\n", kept)
	}
	fmt.Fprintln(f.IO.Out, "Every lab is reset and progress starts over.")
	return nil
}

// discardAnswers is an AnswerStore that keeps nothing: reset --all clears
// every answer at once, even from a state file that cannot be read.
type discardAnswers struct{}

func (discardAnswers) SetAnswer(string, string) error { return nil }
func (discardAnswers) ClearAnswer(string) error       { return nil }
