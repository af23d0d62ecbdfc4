package nslab

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/kernel/kerneltest"
	"github.com/lab-edu/lab/steps"
	"github.com/lab-edu/lab/steps/stepstest"
)

// labShim stands in for `lab check STEP --answer X` in the Solution blocks
// of quiz steps: it records the answer where the test reads it.
const labShim = `#!/bin/sh
if [ "$1" = check ] && [ "$3" = --answer ]; then
	printf '%s\n%s\n' "$2" "$4" > "$LAB_SHIM_ANSWER"
fi
`

var nsLabs = []struct {
	id    string
	steps []steps.Step
}{{"uts", UTSSteps}, {"pid", PIDSteps}, {"user", UserSteps}, {"ipc", IPCSteps}}

// TestSolutionShell follows each step's text literally: after the step's
// Setup, it runs the Solution block with bash, and the check must pass;
// then the steps' Cleanups must leave the host as it was.
func TestSolutionShell(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root, kerneltest.Tool("bash"), kerneltest.Tool("unshare"),
		kerneltest.Tool("nsenter"), kerneltest.Tool("lsns"), kerneltest.Tool("setpriv"), kerneltest.Tool("ipcmk"),
		kerneltest.Tool("domainname"), kerneltest.Tool("pgrep"))
	shim := t.TempDir()
	if err := os.WriteFile(filepath.Join(shim, "lab"), []byte(labShim), 0o755); err != nil {
		t.Fatal(err)
	}
	answerFile := filepath.Join(shim, "answer")
	t.Setenv("PATH", shim+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("LAB_SHIM_ANSWER", answerFile)
	for _, lab := range nsLabs {
		for i, s := range lab.steps {
			t.Run(s.ID, func(t *testing.T) {
				ctx, env := t.Context(), stepstest.NewEnv(t, lab.id)
				before := stepstest.Snapshot(t)
				cleanup := func(ctx context.Context) error {
					var errs []string
					for j := i; j >= 0; j-- {
						if c := lab.steps[j].Cleanup; c != nil {
							if err := c(ctx, env); err != nil {
								errs = append(errs, err.Error())
							}
						}
					}
					if len(errs) > 0 {
						t.Errorf("cleanup: %s", strings.Join(errs, "; "))
					}
					return nil
				}
				t.Cleanup(func() { _ = cleanup(context.Background()) })
				stepstest.Do(t, s.Setup, ctx, env)
				_ = os.Remove(answerFile)
				out := stepstest.RunSolution(t, s.ID, env, 20*time.Second)
				if s.Quiz != nil {
					b, err := os.ReadFile(answerFile)
					if err != nil {
						t.Fatalf("the Solution of quiz %s never ran `lab check %s --answer X`:\n%s", s.ID, s.ID, out)
					}
					id, answer, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
					if id != s.ID {
						t.Fatalf("the Solution answers step %q, want %q", id, s.ID)
					}
					if err := env.Answers.SetAnswer(s.ID, answer); err != nil {
						t.Fatal(err)
					}
				}
				if r := stepstest.PassesSoon(ctx, s, env.Host, 3*time.Second); r.Status != checker.Pass {
					dbg, _ := exec.Command("sh", "-c", "lsns -t user; lsns -t mnt; ps -eo pid,ppid,user,args | grep -E 'sleep|hold'").CombinedOutput()
					t.Fatalf("after the Solution block: status %s: %s (hint: %s)\n--- output\n%s\n%s", r.Status, r.Reason, r.Hint, out, dbg)
				}
				_ = cleanup(ctx)
				stepstest.Same(t, before, stepstest.Snapshot(t))
			})
		}
	}
}
