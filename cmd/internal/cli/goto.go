package cli

import (
	"context"

	"github.com/spf13/cobra"
)

type gotoOptions struct {
	f      *Factory
	StepID string
}

func newCmdGoto(f *Factory, runF func(*gotoOptions) error) *cobra.Command {
	opts := &gotoOptions{f: f}
	return &cobra.Command{
		Use:   "goto step",
		Short: "Jump to any step, with its starting state built for you",
		Long: `Jump to STEP: its setup builds the state the step starts from (using
earlier steps' reference solutions where it needs them), then it is shown.`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeSteps(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.StepID = args[0]
			if runF != nil {
				return runF(opts)
			}
			return interrupted(cmd.Context(), runGoto(cmd.Context(), opts))
		},
	}
}

func runGoto(ctx context.Context, opts *gotoOptions) error {
	f := opts.f
	_, l, i, err := loadStep(f, opts.StepID)
	if err != nil {
		return err
	}
	if err := requireRoot(f); err != nil {
		return err
	}
	if err := setupStep(ctx, f, l, i); err != nil {
		return err
	}
	showStep(f, l, i)
	return nil
}
