package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/lab-edu/lab/labs"
)

type statusOptions struct{ f *Factory }

func newCmdStatus(f *Factory, runF func(*statusOptions) error) *cobra.Command {
	opts := &statusOptions{f: f}
	return &cobra.Command{
		Use:   "status",
		Short: "Show the current lab and step and your progress",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runStatus(opts)
		},
	}
}

func runStatus(opts *statusOptions) error {
	f := opts.f
	p, err := loadProgress(f)
	if err != nil {
		return err
	}
	l, i, ok := currentStep(f.Labs(), p)
	if !ok {
		fmt.Fprintln(f.IO.Out, "No lab started: `lab list` shows the labs, `sudo lab start LAB` starts one.")
		return nil
	}
	done := 0
	for _, s := range l.Steps {
		if p.Step(s.ID).Status != labs.Todo {
			done++
		}
	}
	s := l.Steps[i]
	sp := p.Step(s.ID)
	fmt.Fprintf(f.IO.Out, "Lab %s: %s  %s %d/%d steps done\n", l.ID, l.Title, progressBar(done, len(l.Steps), 12), done, len(l.Steps))
	fmt.Fprintf(f.IO.Out, "Step %d/%d: %s  %s\n", i+1, len(l.Steps), s.ID, s.Title)
	state := "to do"
	switch sp.Status {
	case labs.Passed:
		state = "passed"
	case labs.Solved:
		state = "solved with `lab solve`"
	}
	doc, _ := stepDoc(s.ID, f.Lang)
	fmt.Fprintf(f.IO.Out, "  %s · %d/%d hints shown\n", state, min(sp.Hints, len(doc.HintList())), len(doc.HintList()))
	if sp.Status == labs.Todo {
		fmt.Fprintln(f.IO.Out, "Next: do the task, then `sudo lab check` (`lab hint` if stuck).")
	} else {
		fmt.Fprintln(f.IO.Out, "Next: `lab next`.")
	}
	return nil
}
