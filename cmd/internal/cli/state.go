package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lab-edu/lab/kernel/procfs"
	"github.com/lab-edu/lab/labs"
	"github.com/lab-edu/lab/steps"
)

// ExitInterrupted is the exit code after Ctrl-C, as shells report SIGINT.
const ExitInterrupted = 130

// stateError turns a progress error into the right exit: a corrupt state
// file is the learner's to fix (exit 2, the file untouched); anything else
// (permissions, a full disk) is the environment's.
func stateError(err error) error {
	var corrupt *labs.CorruptError
	if errors.As(err, &corrupt) {
		return &ExitError{Code: ExitUsage, Err: corrupt}
	}
	if errors.Is(err, os.ErrPermission) {
		return EnvError("%v: run it with sudo", err)
	}
	return err
}

func loadProgress(f *Factory) (*labs.Progress, error) {
	p, err := f.Store().Load()
	if err != nil {
		return nil, stateError(err)
	}
	return p, nil
}

func updateProgress(f *Factory, fn func(*labs.Progress) error) error {
	if err := f.Store().Update(fn); err != nil {
		return stateError(err)
	}
	return nil
}

// interrupted reports Ctrl-C (a cancelled context) as exit 130 with one
// line, whatever error the interrupted work returned.
func interrupted(ctx context.Context, err error) error {
	var ee *ExitError
	if errors.As(err, &ee) && ee.Code == ExitInterrupted {
		return err // it already says what to do next
	}
	if ctx.Err() != nil && err != nil {
		return &ExitError{Code: ExitInterrupted, Err: errors.New("interrupted")}
	}
	return err
}

// findLab looks a lab up by ID; an unknown one is a usage error.
func findLab(f *Factory, id string) (labs.Lab, error) {
	l, err := labs.Find(f.Labs(), id)
	if err != nil {
		return labs.Lab{}, FlagError("%v", err)
	}
	return l, nil
}

// resolveStep finds step id, or the current step when id is empty.
// loadStep loads progress and resolves id (or, when empty, the current
// step): what every per-step verb starts with.
func loadStep(f *Factory, id string) (*labs.Progress, labs.Lab, int, error) {
	p, err := loadProgress(f)
	if err != nil {
		return nil, labs.Lab{}, 0, err
	}
	l, i, err := resolveStep(f, p, id)
	return p, l, i, err
}

func resolveStep(f *Factory, p *labs.Progress, id string) (labs.Lab, int, error) {
	all := f.Labs()
	if id != "" {
		l, i, err := labs.FindStep(all, id)
		if err != nil {
			return labs.Lab{}, 0, FlagError("%v", err)
		}
		return l, i, nil
	}
	l, i, ok := currentStep(all, p)
	if !ok {
		return labs.Lab{}, 0, FlagError("no current step: start a lab with `sudo lab start LAB`, or name a step (see `lab list`)")
	}
	return l, i, nil
}

// currentStep is the saved current step. When that step no longer exists
// (renamed in a newer version) it is the lab's first step not done yet.
func currentStep(all []labs.Lab, p *labs.Progress) (labs.Lab, int, bool) {
	if p.Current == "" {
		return labs.Lab{}, 0, false
	}
	if l, i, err := labs.FindStep(all, p.Current); err == nil {
		return l, i, true
	}
	l, err := labs.Find(all, p.CurrentLab())
	if err != nil || len(l.Steps) == 0 {
		return labs.Lab{}, 0, false
	}
	for i, s := range l.Steps {
		if p.Step(s.ID).Status == labs.Todo {
			return l, i, true
		}
	}
	return l, len(l.Steps) - 1, true
}

// workspace is the lab's working directory, Work()/<lab>.
func workspace(f *Factory, lab string) string { return filepath.Join(f.Work(), lab) }

// ensureWorkspace creates the lab's workspace. The state directory and
// work/ are world-readable so that probes running as an unprivileged user
// can reach the workspace.
func ensureWorkspace(f *Factory, lab string) error {
	dir := workspace(f, lab)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create workspace: %w", err)
	}
	for _, d := range []string{f.Root, f.Work(), dir} {
		_ = os.Chmod(d, 0o755)
	}
	return nil
}

// stepEnv is what a lab's steps run with: its workspace, the live host,
// progress lines to stderr and quiz answers in the state file.
func stepEnv(f *Factory, lab string) *steps.Env {
	return &steps.Env{Dir: workspace(f, lab), Host: f.Host(), Log: f.IO.ErrOut, Answers: f.Store()}
}

// resetLab removes everything the lab created, its workspace and its
// progress. It finishes even after Ctrl-C: a half reset is worse than a
// slow one.
func resetLab(ctx context.Context, f *Factory, l labs.Lab) error {
	ctx = context.WithoutCancel(ctx)
	var errs []error
	if err := labs.Reset(ctx, l, stepEnv(f, l.ID)); err != nil {
		errs = append(errs, err)
	}
	if err := removeWorkspace(workspace(f, l.ID)); err != nil {
		errs = append(errs, err)
	}
	if err := updateProgress(f, func(p *labs.Progress) error { p.ForgetLab(l.ID); return nil }); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// removeWorkspace deletes a workspace, but never across a mount point:
// os.RemoveAll would follow a bind mount of / or /home left in the
// workspace and delete the host's files. A lab's Cleanup unmounts what it
// mounted; a mount still there is reported for the learner to remove.
func removeWorkspace(dir string) error {
	if mounts, err := procfs.ReadMountInfo(os.DirFS("/"), "self"); err == nil {
		for _, m := range mounts {
			if m.Point == dir || strings.HasPrefix(m.Point, dir+"/") {
				return EnvError("%s is still mounted in the workspace: unmount it (sudo umount -R %s) and run lab reset again", m.Point, m.Point)
			}
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove workspace: %w", err)
	}
	return nil
}

// completeSteps completes step IDs for shell completion.
func completeSteps(f *Factory) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		var ids []string
		for _, l := range f.Labs() {
			for _, s := range l.Steps {
				ids = append(ids, s.ID+"\t"+s.Title)
			}
		}
		return ids, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeLabs completes lab IDs.
func completeLabs(f *Factory) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		var ids []string
		for _, l := range f.Labs() {
			ids = append(ids, l.ID+"\t"+l.Title)
		}
		return ids, cobra.ShellCompDirectiveNoFileComp
	}
}

// canPrompt reports whether a question can be asked: both ends are
// terminals and there is a Prompter.
func canPrompt(f *Factory) bool { return f.Prompter != nil && f.IO.CanPrompt() }
