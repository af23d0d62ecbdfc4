package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/labs"
)

type gradeOptions struct {
	f          *Factory
	Lab        string // empty: every lab
	Format     string
	Out        string // empty: stdout
	Submission string // a directory of LAB.sh scripts
	Timeout    time.Duration
	Settle     time.Duration // how long failing steps are re-checked after a script
	Reports    []string      // FORMAT=FILE: the same report in more formats
}

// extraReport is one --report FORMAT=FILE.
type extraReport struct {
	format checker.Format
	file   string
}

// parseReports checks every --report FORMAT=FILE before anything runs.
func parseReports(values []string) ([]extraReport, error) {
	var out []extraReport
	for _, v := range values {
		name, file, ok := strings.Cut(v, "=")
		if !ok || file == "" {
			return nil, FlagError("--report %q: want FORMAT=FILE, for example --report junit=report.xml", v)
		}
		format, err := checker.ParseFormat(name)
		if err != nil {
			return nil, FlagError("--report %s: %v", v, err)
		}
		out = append(out, extraReport{format, file})
	}
	return out, nil
}

func newCmdGrade(f *Factory, runF func(*gradeOptions) error) *cobra.Command {
	opts := &gradeOptions{f: f}
	cmd := &cobra.Command{
		Use:   "grade",
		Short: "Re-verify every step live and score it",
		Long: `Re-verify every step of every lab (or of --lab) against the live kernel,
with points and partial credit. Saved progress is never trusted.

With --submission DIR (assignment mode), for each lab that has a script
DIR/LAB.sh: reset the lab, run the script as root with bash in the lab's
workspace (LAB_WORK names it) within --timeout, grade live, and reset
again, so nothing is left either way. What the script started in the
background may still be on its way (a jail, a container): a step that
fails is checked again for up to --settle before it counts as failed.

Exit status: 0 when every step passes, 1 otherwise.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return interrupted(cmd.Context(), runGrade(cmd.Context(), opts))
		},
	}
	cmd.Flags().StringVar(&opts.Lab, "lab", "", "grade only this lab")
	cmd.Flags().StringVar(&opts.Format, "format", "text", "report format: text, json, junit, tap or classroom")
	cmd.Flags().StringVarP(&opts.Out, "out", "o", "", "write the report to this file")
	cmd.Flags().StringVar(&opts.Submission, "submission", "", "grade the LAB.sh scripts in this directory on a clean state")
	cmd.Flags().DurationVar(&opts.Timeout, "timeout", 120*time.Second, "time limit of each submitted script")
	cmd.Flags().DurationVar(&opts.Settle, "settle", 3*time.Second, "with --submission: re-check a failing step for this long after the script exits")
	cmd.Flags().StringArrayVar(&opts.Reports, "report", nil, "also write the report as FORMAT=FILE (repeatable), e.g. --report junit=report.xml")
	_ = cmd.RegisterFlagCompletionFunc("lab", completeLabs(f))
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(
		[]string{"text", "json", "junit", "tap", "classroom"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func runGrade(ctx context.Context, opts *gradeOptions) error {
	f := opts.f
	format, err := checker.ParseFormat(opts.Format)
	if err != nil {
		return FlagError("%v", err)
	}
	if opts.Timeout <= 0 {
		return FlagError("--timeout %s: give a positive duration such as 120s or 5m", opts.Timeout)
	}
	if opts.Settle < 0 {
		return FlagError("--settle %s: give a duration of zero or more, such as 3s", opts.Settle)
	}
	extra, err := parseReports(opts.Reports)
	if err != nil {
		return err
	}
	selected := f.Labs()
	if opts.Lab != "" {
		l, err := findLab(f, opts.Lab)
		if err != nil {
			return err
		}
		selected = []labs.Lab{l}
	}
	if opts.Submission != "" {
		if st, err := os.Stat(opts.Submission); err != nil || !st.IsDir() {
			return FlagError("--submission %s: not a directory; give the directory holding LAB.sh scripts", opts.Submission)
		}
	}
	if err := requireRoot(f); err != nil {
		return err
	}
	var reports []checker.Report
	if opts.Submission != "" {
		reports, err = gradeSubmission(ctx, f, selected, opts.Submission, opts.Timeout, opts.Settle)
		if err != nil {
			return err
		}
	} else {
		host := f.Host()
		for _, l := range selected {
			reports = append(reports, labs.Grade(ctx, l, host))
		}
	}
	if ctx.Err() != nil {
		return interrupted(ctx, ctx.Err())
	}
	// One grading, as many renderings as asked: a teacher gets the JUnit
	// and the Classroom reports of the same run.
	for _, r := range extra {
		var b bytes.Buffer
		if err := checker.Write(&b, r.format, reports, checker.TextOptions{}); err != nil {
			return fmt.Errorf("render %s report: %w", r.format, err)
		}
		if err := os.WriteFile(r.file, b.Bytes(), 0o644); err != nil {
			return fmt.Errorf("write %s report: %w", r.format, err)
		}
	}
	var buf bytes.Buffer
	if err := checker.Write(&buf, format, reports, checker.TextOptions{Color: opts.Out == "" && f.IO.IsTerminal()}); err != nil {
		return fmt.Errorf("render %s report: %w", format, err)
	}
	if opts.Out != "" {
		if err := os.WriteFile(opts.Out, buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
		points, maxPoints := checker.Totals(reports)
		fmt.Fprintf(f.IO.ErrOut, "wrote the %s report to %s: %s/%d points\n", format, opts.Out, checker.FormatPoints(points), maxPoints)
	} else if _, err := f.IO.Out.Write(buf.Bytes()); err != nil {
		return err
	}
	if !checker.AllPassed(reports) {
		return Silent(ExitFailed)
	}
	return nil
}
