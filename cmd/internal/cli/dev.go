package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/labs"
	"github.com/lab-edu/lab/steps"
	"github.com/lab-edu/lab/steps/stepstest"
)

func newCmdDev(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Tools for lab authors",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newCmdDevCheck(f, nil))
	return cmd
}

type devCheckOptions struct {
	f       *Factory
	Lab     string
	Verbose bool
	// Settle is how long a host difference may take to go away (dying
	// processes, a netns whose last user just left).
	Settle time.Duration
	// Snapshot reads the host state a lab may change (stepstest.Take).
	Snapshot func() stepstest.State
}

func newCmdDevCheck(f *Factory, runF func(*devCheckOptions) error) *cobra.Command {
	opts := &devCheckOptions{f: f, Settle: 3 * time.Second, Snapshot: stepstest.Take}
	cmd := &cobra.Command{
		Use:   "check [lab]",
		Short: "Self-test every step: unsolved fails, solved passes, cleanup leaves nothing",
		Long: `For every step of LAB (or of every lab), in a scratch workspace: run its
setup, check that it fails with a reason, run its reference solution, check
that it passes, clean up, and compare the host (network namespaces, links,
mounts, lab cgroups, isolated processes, IPC, lab files, iptables) with
before. One line per step; exit status 1 if any step fails.`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: completeLabs(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Lab = args[0]
			}
			if runF != nil {
				return runF(opts)
			}
			return interrupted(cmd.Context(), runDevCheck(cmd.Context(), opts))
		},
	}
	cmd.Flags().BoolVarP(&opts.Verbose, "verbose", "v", false, "show the steps' setup and solve logs")
	return cmd
}

func runDevCheck(ctx context.Context, opts *devCheckOptions) error {
	f := opts.f
	selected := f.Labs()
	if opts.Lab != "" {
		l, err := findLab(f, opts.Lab)
		if err != nil {
			return err
		}
		selected = []labs.Lab{l}
	}
	if err := requireRoot(f); err != nil {
		return err
	}
	failed := 0
	for _, l := range selected {
		for i := range l.Steps {
			if ctx.Err() != nil {
				return interrupted(ctx, ctx.Err())
			}
			line, ok := devCheckStep(ctx, opts, l, i)
			fmt.Fprintln(f.IO.Out, line)
			if !ok {
				failed++
			}
		}
	}
	if failed > 0 {
		return &ExitError{Code: ExitFailed, Err: fmt.Errorf("%d step(s) failed the self-test", failed)}
	}
	return nil
}

// devCheckStep is rustlings' `dev check` for one step, like the lifecycle
// test, in a scratch workspace so a learner's own work and progress are
// not touched.
func devCheckStep(ctx context.Context, opts *devCheckOptions, l labs.Lab, i int) (string, bool) {
	s := l.Steps[i]
	scratch, err := os.MkdirTemp(opts.f.Root, ".dev-check-")
	if err != nil {
		_ = os.MkdirAll(opts.f.Root, 0o755)
		if scratch, err = os.MkdirTemp(opts.f.Root, ".dev-check-"); err != nil {
			return fmt.Sprintf("✗ %s: scratch workspace: %v", s.ID, err), false
		}
	}
	defer os.RemoveAll(scratch)
	_ = os.Chmod(scratch, 0o755)
	work := filepath.Join(scratch, "work")
	answers := &memAnswers{}
	env := &steps.Env{
		Dir:     filepath.Join(work, l.ID),
		Host:    checker.LiveHost{Work: work, Answers: answers.Answer},
		Log:     io.Discard,
		Answers: answers,
	}
	if opts.Verbose {
		env.Log = opts.f.IO.ErrOut
	}
	if err := os.MkdirAll(env.Dir, 0o755); err != nil {
		return fmt.Sprintf("✗ %s: %v", s.ID, err), false
	}
	_ = os.Chmod(work, 0o755)

	before := opts.Snapshot()
	var timings []string
	timed := func(name string, fn func() error) error {
		start := time.Now()
		err := fn()
		timings = append(timings, name+" "+roundDuration(time.Since(start)))
		return err
	}
	why := func() string {
		if err := timed("setup", func() error { return run(ctx, s.Setup, env) }); err != nil {
			return "setup: " + err.Error()
		}
		var r checker.Result
		_ = timed("check", func() error { r = s.Verify(ctx, env.Host); return nil })
		if r.Status != checker.Fail {
			return fmt.Sprintf("unsolved: status %s, want fail (%s)", r.Status, r.Reason)
		}
		if r.Reason == "" {
			return "unsolved: the failing check gives no reason"
		}
		if err := timed("solve", func() error { return run(ctx, s.Solve, env) }); err != nil {
			return "solve: " + err.Error()
		}
		_ = timed("check", func() error { r = s.Verify(ctx, env.Host); return nil })
		if r.Status != checker.Pass {
			return fmt.Sprintf("solved: status %s, want pass: %s (hint: %s)", r.Status, r.Reason, r.Hint)
		}
		return ""
	}()
	cleanCtx := context.WithoutCancel(ctx)
	if err := timed("cleanup", func() error { return labs.CleanupThrough(cleanCtx, l, i, env) }); err != nil && why == "" {
		why = "cleanup: " + err.Error()
	}
	if why == "" {
		if diff := settledDiff(before, opts.Snapshot, opts.Settle); diff != "" {
			why = "cleanup left the host changed (- gone, + left behind):\n" + diff
		}
	}
	if why != "" {
		return fmt.Sprintf("✗ %s: %s", s.ID, why), false
	}
	return fmt.Sprintf("✓ %s (%s)", s.ID, strings.Join(timings, ", ")), true
}

func run(ctx context.Context, fn func(context.Context, *steps.Env) error, env *steps.Env) error {
	if fn == nil {
		return nil
	}
	return fn(ctx, env)
}

// settledDiff compares the host with before, re-reading for up to settle
// while the kernel finishes asynchronous teardown. Processes that were
// there before and are gone do not count (stepstest.Departed).
func settledDiff(before stepstest.State, snapshot func() stepstest.State, settle time.Duration) string {
	deadline := time.Now().Add(settle)
	for {
		diff, _ := stepstest.Departed(stepstest.Diff(before, snapshot()))
		if diff == "" || time.Now().After(deadline) {
			return diff
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// memAnswers keeps quiz answers in memory, for the scratch runs of dev check.
type memAnswers struct {
	mu sync.Mutex
	m  map[string]string
}

func (a *memAnswers) SetAnswer(id, answer string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.m == nil {
		a.m = map[string]string{}
	}
	a.m[id] = answer
	return nil
}

func (a *memAnswers) ClearAnswer(id string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.m, id)
	return nil
}

func (a *memAnswers) Answer(id string) (string, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	v, ok := a.m[id]
	return v, ok
}

// roundDuration prints a timing with a useful precision: 1.2s, 35ms, 80µs.
func roundDuration(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(100 * time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Microsecond).String()
}
