package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/labs"
)

// maxScriptOutput is how much of a submitted script's output a report
// keeps: its end, where the errors are.
const maxScriptOutput = 4096

// gradeSubmission grades the scripts in dir, each on a clean lab: reset,
// run DIR/LAB.sh, grade live, reset again. Labs without a script are left
// out, unless no lab has one: then every selected lab is graded from its
// reset state, which is worth zero.
func gradeSubmission(ctx context.Context, f *Factory, selected []labs.Lab, dir string, timeout, settle time.Duration) ([]checker.Report, error) {
	if _, err := loadProgress(f); err != nil {
		return nil, err
	}
	var withScript []labs.Lab
	for _, l := range selected {
		if _, err := os.Stat(filepath.Join(dir, l.ID+".sh")); err == nil {
			withScript = append(withScript, l)
		}
	}
	if len(withScript) == 0 || len(selected) == 1 {
		withScript = selected
	}
	var reports []checker.Report
	for _, l := range withScript {
		rep, err := gradeScript(ctx, f, l, filepath.Join(dir, l.ID+".sh"), timeout, settle)
		if err != nil {
			return nil, err
		}
		reports = append(reports, rep)
		if ctx.Err() != nil {
			break
		}
	}
	return reports, nil
}

// gradeScript grades one lab from one script. The lab is reset before
// and after, whatever happens in between. The script starts on the lab's
// materials (steps.Step.Materials), with no step solved. Failing steps are re-checked
// for settle after the script exits (see labs.GradeSettling).
func gradeScript(ctx context.Context, f *Factory, l labs.Lab, script string, timeout, settle time.Duration) (rep checker.Report, err error) {
	if err := resetLab(ctx, f, l); err != nil {
		return rep, fmt.Errorf("reset %s before grading: %w", l.ID, err)
	}
	pgid := 0
	defer func() {
		if pgid > 0 {
			_ = syscall.Kill(-pgid, syscall.SIGKILL) // what the script left running
		}
		if rerr := resetLab(ctx, f, l); rerr != nil && err == nil {
			err = fmt.Errorf("reset %s after grading: %w", l.ID, rerr)
		}
	}()
	if err := ensureWorkspace(f, l.ID); err != nil {
		return rep, err
	}
	// What the lessons hand the student (a root file system, layers, a
	// skeleton), quietly: the script starts where a student starts.
	env := stepEnv(f, l.ID)
	env.Log = io.Discard
	if err := labs.Materials(ctx, l, env); err != nil {
		return rep, err
	}
	var evidence []string
	if _, serr := os.Stat(script); serr != nil {
		evidence = []string{fmt.Sprintf("no %s in %s: nothing was run", filepath.Base(script), filepath.Dir(script))}
		settle = 0 // nothing can still be on its way
	} else {
		evidence, pgid, err = runScript(ctx, f, script, workspace(f, l.ID), timeout)
		if err != nil {
			return rep, err
		}
	}
	rep = labs.GradeSettling(ctx, l, f.Host(), settle)
	rep.Evidence = evidence
	return rep, nil
}

// runScript runs `/bin/bash SCRIPT` as root in the workspace, with
// LAB_WORK and LAB_ROOT set, stdin from /dev/null and output to a file.
// The script gets its own process group (setpgid), so that on timeout or
// Ctrl-C one kill(-pgid) stops it and everything it started. Processes it
// leaves behind on a normal exit are what gets graded (a long-lived
// process in a chroot), so they live on until the caller kills the group.
func runScript(ctx context.Context, f *Factory, script, work string, timeout time.Duration) (evidence []string, pgid int, err error) {
	log, err := os.CreateTemp(f.Root, ".submission-*.log")
	if err != nil {
		return nil, 0, fmt.Errorf("capture script output: %w", err)
	}
	defer os.Remove(log.Name())
	defer log.Close()

	abs, _ := filepath.Abs(script)
	cmd := exec.Command("/bin/bash", abs)
	cmd.Dir = work
	cmd.Env = scriptEnv(work, f.Root)
	cmd.Stdout, cmd.Stderr = log, log // a file, not a pipe: Wait does not wait for background children
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, 0, fmt.Errorf("run %s: %w", script, err)
	}
	pgid = cmd.Process.Pid
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var status string
	select {
	case werr := <-done:
		status = exitStatus(werr)
	case <-timer.C:
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-done
		status = fmt.Sprintf("timed out after %s: its process group was killed", timeout)
	case <-ctx.Done():
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-done
		status = "interrupted"
	}
	evidence = append(evidence, fmt.Sprintf("%s %s (%s)", filepath.Base(script), status, time.Since(start).Round(time.Millisecond)))
	if out := tail(log.Name(), maxScriptOutput); out != "" {
		evidence = append(evidence, "output:\n"+out)
	}
	return evidence, pgid, nil
}

func exitStatus(err error) string {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return "exited 0"
	case errors.As(err, &ee):
		return "exited " + strings.TrimPrefix(ee.ProcessState.String(), "exit status ")
	}
	return "failed: " + err.Error()
}

// scriptEnv is the environment of a submitted script. When this binary is
// called lab, its directory goes first on PATH, so the script's own `lab
// check --answer` calls reach the same binary and state.
func scriptEnv(work, root string) []string {
	env := os.Environ()
	if exe, err := os.Executable(); err == nil && filepath.Base(exe) == "lab" {
		env = append(env, "PATH="+filepath.Dir(exe)+":"+os.Getenv("PATH"))
	}
	return append(env, "LAB_WORK="+work, "LAB_ROOT="+root)
}

// tail returns the last n bytes of a file, marking a cut.
func tail(path string, n int64) string {
	fh, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return ""
	}
	prefix := ""
	if st.Size() > n {
		if _, err := fh.Seek(st.Size()-n, io.SeekStart); err != nil {
			return ""
		}
		prefix = fmt.Sprintf("[%d earlier bytes cut]\n", st.Size()-n)
	}
	b, _ := io.ReadAll(io.LimitReader(fh, n))
	return prefix + strings.TrimRight(string(b), "\n")
}
