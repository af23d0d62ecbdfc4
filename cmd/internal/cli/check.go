package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/cmd/internal/prompt"
	"github.com/lab-edu/lab/labs"
	"github.com/lab-edu/lab/steps"
)

type checkOptions struct {
	f      *Factory
	StepID string // empty: the current step
	JSON   bool
	Watch  bool
	Answer string // a quiz answer given on the command line
	// Interval between checks with --watch.
	Interval time.Duration
}

func newCmdCheck(f *Factory, runF func(*checkOptions) error) *cobra.Command {
	opts := &checkOptions{f: f, Interval: time.Second}
	cmd := &cobra.Command{
		Use:   "check [step]",
		Short: "Verify a step live and explain what is missing",
		Long: `Verify the current step (or STEP) against the live kernel. On success
the step is marked passed, its explanation is shown, then the next step.
A quiz step asks its question on a terminal; elsewhere give --answer.`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: completeSteps(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.StepID = args[0]
			}
			if runF != nil {
				return runF(opts)
			}
			return interrupted(cmd.Context(), runCheck(cmd.Context(), opts))
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the result as JSON")
	cmd.Flags().BoolVarP(&opts.Watch, "watch", "w", false, "re-check every second until the step passes")
	cmd.Flags().StringVar(&opts.Answer, "answer", "", "answer of a quiz step, for example b or a,c")
	return cmd
}

func runCheck(ctx context.Context, opts *checkOptions) error {
	f := opts.f
	_, l, i, err := loadStep(f, opts.StepID)
	if err != nil {
		return err
	}
	s := l.Steps[i]
	quiz := isQuiz(s)
	switch {
	case opts.Answer != "" && !quiz:
		return FlagError("--answer is for quiz steps: %s is checked from kernel state, drop --answer", s.ID)
	case opts.Watch && quiz:
		return FlagError("--watch is for kernel-state steps: %s is a quiz, run `lab check %s` once", s.ID, s.ID)
	}
	if err := requireRoot(f); err != nil {
		return err
	}
	host := f.Host()
	if quiz {
		if err := answerQuiz(ctx, f, s, host, opts.Answer); err != nil {
			return err
		}
	}
	var r checker.Result
	if opts.Watch {
		r = watch(ctx, opts, s, host)
		if ctx.Err() != nil {
			return Silent(ExitInterrupted)
		}
	} else {
		r = s.Verify(ctx, host)
		if ctx.Err() != nil {
			return interrupted(ctx, ctx.Err())
		}
		if err := printResult(opts, s, r); err != nil {
			return err
		}
	}
	if !r.OK() {
		return Silent(resultExit(r))
	}
	if err := updateProgress(f, func(p *labs.Progress) error {
		p.MarkPassed(s.ID, time.Now())
		if p.Current == s.ID || p.Current == "" {
			p.Current = l.Steps[min(i+1, len(l.Steps)-1)].ID
		}
		return nil
	}); err != nil {
		return err
	}
	if !opts.JSON {
		fmt.Fprintln(f.IO.Out)
		showNext(f, l, i)
	}
	return nil
}

// resultExit is the exit code of a check that did not pass: 1 when the
// work is not there yet, 3 when a precondition is missing, 4 when the
// checker broke.
func resultExit(r checker.Result) int {
	switch r.Status {
	case checker.Skip:
		return ExitEnv
	case checker.Error:
		return ExitInternal
	}
	return ExitFailed
}

func printResult(opts *checkOptions, s steps.Step, r checker.Result) error {
	rep := checker.NewStepReport(s.ID, s.Title, s.MaxPoints(), r)
	if opts.JSON {
		enc := json.NewEncoder(opts.f.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	checker.WriteStepText(opts.f.IO.Out, rep, checker.TextOptions{Color: opts.f.IO.IsTerminal()})
	return nil
}

// watch re-checks every interval until the step passes or Ctrl-C. It
// polls instead of watching files: inotify misses changes on VM shared
// folders, and most of what a step checks is kernel state, not files.
// A result is printed again only when it changes.
func watch(ctx context.Context, opts *checkOptions, s steps.Step, host checker.Host) checker.Result {
	fmt.Fprintf(opts.f.IO.ErrOut, "watching %s: re-checking every %s, Ctrl-C to stop\n", s.ID, opts.Interval)
	tick := time.NewTicker(opts.Interval)
	defer tick.Stop()
	last := ""
	for {
		r := s.Verify(ctx, host)
		if ctx.Err() != nil {
			return r
		}
		if key := string(r.Status) + "\x00" + r.Reason + "\x00" + r.Hint; key != last {
			last = key
			_ = printResult(opts, s, r)
		}
		if r.OK() {
			return r
		}
		select {
		case <-ctx.Done():
			return r
		case <-tick.C:
		}
	}
}

func isQuiz(s steps.Step) bool { return s.Quiz != nil && s.Check == nil }

// answerQuiz records the answer to a quiz step: the one given with
// --answer, or, on a terminal, the one picked at the prompt. Without
// either, a previously recorded answer is graded again.
func answerQuiz(ctx context.Context, f *Factory, s steps.Step, host checker.Host, given string) error {
	answer := strings.TrimSpace(given)
	if answer == "" {
		if !canPrompt(f) {
			if _, ok := host.Answer(s.ID); ok {
				return nil
			}
			return FlagError("%s is a quiz: answer it with `lab check %s --answer LETTER` (or run lab check on a terminal)", s.ID, s.ID)
		}
		q, err := s.Quiz.Ask(ctx, host)
		if err != nil {
			return fmt.Errorf("ask %s: %w", s.ID, err)
		}
		if answer, err = askQuestion(f.Prompter, q); err != nil {
			return err
		}
	}
	if err := f.Store().SetAnswer(s.ID, answer); err != nil {
		return stateError(err)
	}
	return nil
}

// askQuestion puts a quiz question to the learner. Choices are answered
// by letter and any number may be picked, since some questions have more
// than one right choice.
func askQuestion(p prompt.Prompter, q steps.Question) (string, error) {
	if len(q.Choices) == 0 {
		a, err := p.Input(q.Text)
		return a, promptError(err)
	}
	options := make([]string, len(q.Choices))
	for i, c := range q.Choices {
		options[i] = steps.Letter(i) + ") " + c
	}
	picked, err := p.MultiSelect(q.Text+" (space selects, enter answers)", options)
	if err != nil {
		return "", promptError(err)
	}
	letters := make([]string, len(picked))
	for i, n := range picked {
		letters[i] = steps.Letter(n)
	}
	return strings.Join(letters, ","), nil
}

// promptError maps Ctrl-C at a prompt to exit 130.
func promptError(err error) error {
	if errors.Is(err, prompt.ErrInterrupted) {
		return &ExitError{Code: ExitInterrupted, Err: errors.New("interrupted")}
	}
	return err
}
