package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/lab-edu/lab/labs"
)

type nextOptions struct{ f *Factory }

func newCmdNext(f *Factory, runF func(*nextOptions) error) *cobra.Command {
	opts := &nextOptions{f: f}
	return &cobra.Command{
		Use:   "next",
		Short: "Move to the next step of the current lab and show it",
		Long: `Move to the next step and show it. Your state carries over as it is;
to jump to a step with its starting state built for you, use lab goto.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runNext(opts)
		},
	}
}

func runNext(opts *nextOptions) error {
	f := opts.f
	p, err := loadProgress(f)
	if err != nil {
		return err
	}
	l, i, ok := currentStep(f.Labs(), p)
	if !ok {
		return FlagError("no current step: start a lab with `sudo lab start LAB`")
	}
	cur := l.Steps[i]
	if p.Step(cur.ID).Status == labs.Todo && i+1 < len(l.Steps) {
		fmt.Fprintf(f.IO.ErrOut, "note: %s is not done yet; its state carries over\n", cur.ID)
	}
	if i+1 >= len(l.Steps) {
		fmt.Fprintf(f.IO.Out, "%s is the last step of %s: `lab list` shows the other labs.\n", cur.ID, l.ID)
		return nil
	}
	if err := updateProgress(f, func(p *labs.Progress) error {
		p.Current = l.Steps[i+1].ID
		return nil
	}); err != nil {
		return err
	}
	showStep(f, l, i+1)
	return nil
}
