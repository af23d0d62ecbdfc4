package overlaylab_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/kernel/kerneltest"
	"github.com/lab-edu/lab/kernel/overlay"
	"github.com/lab-edu/lab/labs"
	"github.com/lab-edu/lab/steps"
	overlaylab "github.com/lab-edu/lab/steps/overlay"
	"github.com/lab-edu/lab/steps/stepstest"
)

// labEnv is a fresh workspace whose cleanup runs the cleanups of steps
// last..0 and the lab's Reset, then expects the host as it was.
func labEnv(t *testing.T, last int) *steps.Env {
	t.Helper()
	kerneltest.Requires(t, kerneltest.Root, kerneltest.Filesystem("overlay"))
	env := stepstest.NewEnv(t, overlaylab.ID)
	before := stepstest.Snapshot(t)
	t.Cleanup(func() {
		ctx := context.Background()
		lab := labs.Lab{ID: overlaylab.ID, Steps: overlaylab.Steps, Reset: overlaylab.Reset}
		if err := labs.CleanupThrough(ctx, lab, last, env); err != nil {
			t.Error(err)
		}
		if err := overlaylab.Reset(ctx, env); err != nil {
			t.Error(err)
		}
		stepstest.Same(t, before, stepstest.Snapshot(t))
	})
	return env
}

var (
	buildOnce sync.Once
	labBin    string
	buildErr  error
)

// labOnPath builds the lab binary once and puts it first on PATH, with
// LAB_ROOT set so that `lab image` uses the image store the env's checks
// read (STATE/images beside STATE/work).
func labOnPath(t *testing.T, env *steps.Env) {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "overlaylab-bin-")
		if err != nil {
			buildErr = err
			return
		}
		labBin, buildErr = stepstest.LabBinary(dir)
		if buildErr != nil {
			labBin = filepath.Join(dir, "lab")
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	t.Setenv("PATH", filepath.Dir(labBin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("LAB_ROOT", filepath.Dir(env.Host.Workspace()))
}

func TestMain(m *testing.M) {
	code := m.Run()
	if labBin != "" && buildErr == nil {
		_ = os.RemoveAll(filepath.Dir(labBin))
	}
	os.Exit(code)
}

// TestSolutionShell follows each step's Solution block literally with
// bash (mount -t overlay, rm, tar, sha256sum, lab image import), after the
// step's Setup, and expects its check to pass.
func TestSolutionShell(t *testing.T) {
	for i, s := range overlaylab.Steps {
		t.Run(s.Slug(), func(t *testing.T) {
			env := labEnv(t, i)
			ctx := t.Context()
			labOnPath(t, env)
			stepstest.Do(t, s.Setup, ctx, env)
			if s.Quiz != nil {
				// `lab check --answer` records the answer in the state file;
				// here answers live in memory: check the Solution's answer
				// is the quiz's own.
				script := stepstest.Solution(t, s.ID, env)
				want, _ := s.Quiz.Solution(ctx, env.Host)
				if !strings.Contains(script, "--answer "+want) {
					t.Fatalf("Solution block %q does not give the answer %s", script, want)
				}
				return
			}
			out := stepstest.RunSolution(t, s.ID, env, 30*time.Second)
			if r := s.Verify(ctx, env.Host); r.Status != checker.Pass {
				t.Fatalf("after the Solution block: %s: %s (hint: %s)\noutput:\n%s", r.Status, r.Reason, r.Hint, out)
			}
		})
	}
}

// TestWholeLabAccumulates solves every step in order: at the end every
// step's check still passes, as `lab grade` requires.
func TestWholeLabAccumulates(t *testing.T) {
	env := labEnv(t, len(overlaylab.Steps)-1)
	ctx := t.Context()
	for _, s := range overlaylab.Steps {
		stepstest.Do(t, s.Setup, ctx, env)
		stepstest.Do(t, s.Solve, ctx, env)
	}
	for _, s := range overlaylab.Steps {
		if r := s.Verify(ctx, env.Host); r.Status != checker.Pass {
			t.Errorf("%s at the end of the lab: %s: %s", s.ID, r.Status, r.Reason)
		}
	}
	// What the learner did, as `docker diff` would list it.
	changes, err := overlay.Diff(overlay.Layers{
		Lower: []string{env.Dir + "/layer2", env.Dir + "/layer1"}, Upper: env.Dir + "/upper",
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range changes {
		got = append(got, c.String())
	}
	want := "C /config (opaque)\nD /config/a.conf\nD /config/b.conf\nA /config/c.conf\nC /greeting\nD /notes.txt"
	if strings.Join(got, "\n") != want {
		t.Errorf("Diff =\n%s\nwant\n%s", strings.Join(got, "\n"), want)
	}
}

func run(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", args, err, out)
	}
}

// TestWrongWork: mistakes a learner makes fail with a precise reason.
func TestWrongWork(t *testing.T) {
	tests := []struct {
		name string
		step steps.Step
		do   func(t *testing.T, dir string)
		want string
	}{
		{"lowers in the wrong order", overlaylab.Mount, func(t *testing.T, d string) {
			run(t, "mkdir", "-p", d+"/upper", d+"/work", d+"/merged")
			run(t, "mount", "-t", "overlay", "overlay", "-o", "lowerdir="+d+"/layer1:"+d+"/layer2,upperdir="+d+"/upper,workdir="+d+"/work", d+"/merged")
		}, "the lower layers are in the wrong order"},
		{"upper and work swapped", overlaylab.Mount, func(t *testing.T, d string) {
			run(t, "mkdir", "-p", d+"/upper", d+"/work", d+"/merged")
			run(t, "mount", "-t", "overlay", "overlay", "-o", "lowerdir="+d+"/layer2:"+d+"/layer1,upperdir="+d+"/work,workdir="+d+"/upper", d+"/merged")
		}, "(swapped)"},
		{"upper on another dir", overlaylab.Mount, func(t *testing.T, d string) {
			run(t, "mkdir", "-p", d+"/other", d+"/work", d+"/merged", d+"/upper")
			run(t, "mount", "-t", "overlay", "overlay", "-o", "lowerdir="+d+"/layer2:"+d+"/layer1,upperdir="+d+"/other,workdir="+d+"/work", d+"/merged")
		}, "expected upperdir=" /* + d/upper, found upperdir=d/other */},
		{"only one lower", overlaylab.Mount, func(t *testing.T, d string) {
			run(t, "mkdir", "-p", d+"/upper", d+"/work", d+"/merged")
			run(t, "mount", "-t", "overlay", "overlay", "-o", "lowerdir="+d+"/layer2,upperdir="+d+"/upper,workdir="+d+"/work", d+"/merged")
		}, "found lowerdir=" /* one layer */},
		{"not mounted", overlaylab.Mount, func(t *testing.T, d string) {
			run(t, "mkdir", "-p", d+"/merged")
		}, "is not a mount point"},
		{"a tmpfs instead", overlaylab.Mount, func(t *testing.T, d string) {
			run(t, "mkdir", "-p", d+"/merged")
			run(t, "mount", "-t", "tmpfs", "lab-tmpfs", d+"/merged")
		}, "found tmpfs"},
		{"written straight into upper", overlaylab.CopyUp, func(t *testing.T, d string) {
			mustSolve(t, overlaylab.Mount, d)
			run(t, "umount", d+"/merged")
			run(t, "sh", "-c", "echo 'hello from the container' > "+d+"/upper/greeting")
			run(t, "mount", "-t", "overlay", "overlay", "-o", "lowerdir="+d+"/layer2:"+d+"/layer1,upperdir="+d+"/upper,workdir="+d+"/work", d+"/merged")
		}, "not copied up by the kernel"},
		{"lower changed", overlaylab.CopyUp, func(t *testing.T, d string) {
			mustSolve(t, overlaylab.Mount, d)
			run(t, "sh", "-c", "echo changed > "+d+"/layer1/greeting")
		}, "a lower layer must stay"},
		{"deleted in the lower layer", overlaylab.Whiteout, func(t *testing.T, d string) {
			mustSolve(t, overlaylab.Mount, d)
			run(t, "rm", d+"/layer1/notes.txt")
		}, "delete through the merged view"},
		{"a file put into upper instead of a deletion", overlaylab.Whiteout, func(t *testing.T, d string) {
			mustSolve(t, overlaylab.Mount, d)
			run(t, "umount", d+"/merged")
			run(t, "sh", "-c", "echo > "+d+"/upper/notes.txt")
			run(t, "mount", "-t", "overlay", "overlay", "-o", "lowerdir="+d+"/layer2:"+d+"/layer1,upperdir="+d+"/upper,workdir="+d+"/work", d+"/merged")
		}, "is still there"},
		{"files removed but dir kept", overlaylab.Opaque, func(t *testing.T, d string) {
			mustSolve(t, overlaylab.Mount, d)
			run(t, "sh", "-c", "rm "+d+"/merged/config/a.conf; echo c=2 > "+d+"/merged/config/c.conf")
		}, "still shows layer1's files"},
		{"second container on the first's upper", overlaylab.Share, func(t *testing.T, d string) {
			for _, c := range []string{"ctr1", "ctr2"} {
				run(t, "mkdir", "-p", d+"/"+c+"/upper", d+"/"+c+"/work", d+"/"+c+"/merged")
			}
			run(t, "mount", "-t", "overlay", "overlay", "-o", "lowerdir="+d+"/layer2:"+d+"/layer1,upperdir="+d+"/ctr1/upper,workdir="+d+"/ctr1/work", d+"/ctr1/merged")
			run(t, "mount", "-t", "overlay", "overlay", "-o", "lowerdir="+d+"/layer2:"+d+"/layer1,upperdir="+d+"/ctr1/upper,workdir="+d+"/ctr2/work", d+"/ctr2/merged")
		}, "upperdir=" /* ctr2 must use ctr2/upper */},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := labEnv(t, len(overlaylab.Steps)-1)
			ctx := t.Context()
			stepstest.Do(t, overlaylab.Mount.Setup, ctx, env) // the layers
			tt.do(t, env.Dir)
			r := tt.step.Verify(ctx, env.Host)
			if r.Status != checker.Fail || !strings.Contains(r.Reason, tt.want) {
				t.Fatalf("%s: status %s, reason %q; want fail with %q", tt.step.ID, r.Status, r.Reason, tt.want)
			}
			if r.Hint == "" {
				t.Errorf("no hint with %q", r.Reason)
			}
			t.Logf("%s: %s (hint: %s)", r.Status, r.Reason, r.Hint)
		})
	}
}

func mustSolve(t *testing.T, s steps.Step, dir string) {
	t.Helper()
	env := &steps.Env{Dir: dir, Log: os.Stderr}
	if err := s.Solve(t.Context(), env); err != nil {
		t.Fatal(err)
	}
}

// TestImageWrongDigest: a tar changed after the import fails with both
// digests in the message.
func TestImageWrongDigest(t *testing.T) {
	env := labEnv(t, len(overlaylab.Steps)-1)
	ctx := t.Context()
	stepstest.Do(t, overlaylab.Image.Solve, ctx, env)
	if err := os.WriteFile(filepath.Join(env.Dir, "hello.tar"), []byte("changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := overlaylab.Image.Verify(ctx, env.Host)
	if r.Status != checker.Fail || !strings.Contains(r.Reason, "the sha256 of hello.tar") {
		t.Fatalf("status %s, reason %q; want a digest mismatch", r.Status, r.Reason)
	}
}
