package cli

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lab-edu/lab/labs"
)

type listOptions struct {
	f    *Factory
	Lab  string // empty: every lab
	JSON bool
}

func newCmdList(f *Factory, runF func(*listOptions) error) *cobra.Command {
	opts := &listOptions{f: f}
	cmd := &cobra.Command{
		Use:               "list [lab]",
		Short:             "List the labs and their steps, with your progress",
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: completeLabs(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Lab = args[0]
			}
			if runF != nil {
				return runF(opts)
			}
			return runList(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the list as JSON")
	return cmd
}

type listStep struct {
	ID      string          `json:"id"`
	Title   string          `json:"title"`
	Points  int             `json:"points"`
	Status  labs.StepStatus `json:"status"`
	Current bool            `json:"current"`
}

type listLab struct {
	ID      string     `json:"id"`
	Title   string     `json:"title"`
	Summary string     `json:"summary,omitempty"`
	Done    int        `json:"done"`
	Steps   []listStep `json:"steps"`
}

func runList(opts *listOptions) error {
	f := opts.f
	all := f.Labs()
	if opts.Lab != "" {
		l, err := findLab(f, opts.Lab)
		if err != nil {
			return err
		}
		all = []labs.Lab{l}
	}
	p, err := loadProgress(f)
	if err != nil {
		return err
	}
	var out []listLab
	for _, l := range all {
		ll := listLab{ID: l.ID, Title: l.Title, Summary: l.Summary, Steps: []listStep{}}
		for _, s := range l.Steps {
			st := p.Step(s.ID).Status
			if st != labs.Todo {
				ll.Done++
			}
			ll.Steps = append(ll.Steps, listStep{ID: s.ID, Title: s.Title, Points: s.MaxPoints(), Status: st, Current: s.ID == p.Current})
		}
		out = append(out, ll)
	}
	if opts.JSON {
		if out == nil {
			out = []listLab{}
		}
		enc := json.NewEncoder(f.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	if len(out) == 0 {
		fmt.Fprintln(f.IO.Out, "No labs in this build.")
		return nil
	}
	for i, l := range out {
		if i > 0 {
			fmt.Fprintln(f.IO.Out)
		}
		fmt.Fprintf(f.IO.Out, "%-10s %s  %s %d/%d\n", l.ID, l.Title, progressBar(l.Done, len(l.Steps), 12), l.Done, len(l.Steps))
		for _, s := range l.Steps {
			cur := " "
			if s.Current {
				cur = ">"
			}
			fmt.Fprintf(f.IO.Out, "  %s %s %-24s %s\n", cur, statusMark(s.Status), s.ID, s.Title)
		}
	}
	fmt.Fprintln(f.IO.Out, "\n✓ passed  ◌ solved with `lab solve`  · to do  > current")
	return nil
}

// statusMark is a step's mark in lists.
func statusMark(s labs.StepStatus) string {
	switch s {
	case labs.Passed:
		return "✓"
	case labs.Solved:
		return "◌"
	}
	return "·"
}

// progressBar draws done/total as a bar of width cells.
func progressBar(done, total, width int) string {
	filled := 0
	if total > 0 {
		filled = done * width / total
	}
	return "[" + strings.Repeat("█", filled) + strings.Repeat("░", width-filled) + "]"
}
