package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/cmd/internal/prompt"
	"github.com/lab-edu/lab/content"
	"github.com/lab-edu/lab/kernel/reexec"
	"github.com/lab-edu/lab/labs"
	"github.com/lab-edu/lab/steps"
)

func TestMain(m *testing.M) {
	// TestBinary* run this test binary as the real lab: cli.Main with the
	// real catalogue, signals and exit codes.
	if os.Getenv("LAB_TEST_MAIN") == "1" {
		os.Exit(Main())
	}
	if reexec.Init() {
		return
	}
	stepDoc = func(id, lang string) (content.Doc, error) {
		if md, ok := fixtureLessons[id]; ok {
			return content.Parse(md), nil
		}
		return content.Doc{}, fmt.Errorf("read lesson steps/%s: %w", id, os.ErrNotExist)
	}
	labDoc = func(id, lang string) (content.Doc, error) {
		return content.Parse("# " + id + "\n\n## Intro\n\nWelcome to " + id + " in {{work}}.\n\n## Finish\n\nAll of " + id + " done.\n"), nil
	}
	os.Exit(m.Run())
}

var fixtureLessons = map[string]string{
	"demo/file": "# Make a flag\n\n## Goal\n\nLearn flags.\n\n## Background\n\nFlags are files.\n\n## Task\n\nCreate {{work}}/flag.\n\n## Hints\n\n- Use touch.\n- In {{work}}.\n- touch {{work}}/flag\n\n## What the checker looks for\n\nThe file.\n\n## Explanation\n\nkernel/demo.Flag does the same.\n\n## Solution\n\n```sh\ntouch {{work}}/flag\n```\n",
	"demo/quiz": "# Pick b\n\n## Goal\n\nQuiz.\n\n## Task\n\nAnswer.\n\n## Explanation\n\nb was right.\n",
}

// flagCheck passes when the lab's workspace holds the named file; it stands
// for a real kernel check, and reads the same Host a real one reads.
func flagCheck(name string) checker.Check {
	return func(_ context.Context, h checker.Host) checker.Result {
		path := filepath.Join(h.Workspace(), "demo", name)
		if _, err := os.Stat(path); err != nil {
			return checker.Failed(name+" exists", "no file "+path, "touch "+path)
		}
		return checker.Passed(name + " exists")
	}
}

func touch(name string) func(context.Context, *steps.Env) error {
	return func(_ context.Context, env *steps.Env) error {
		fmt.Fprintln(env.Log, "creating", name)
		return os.WriteFile(filepath.Join(env.Dir, name), nil, 0o644)
	}
}

func remove(name string) func(context.Context, *steps.Env) error {
	return func(_ context.Context, env *steps.Env) error {
		err := os.Remove(filepath.Join(env.Dir, name))
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
}

var demoQuiz = steps.MultipleChoice("Which letter?", []string{"the first", "the second", "the third"}, "b")

// testLabs is a fake catalogue: file steps stand for kernel checks.
func testLabs() []labs.Lab {
	return []labs.Lab{
		{
			ID: "demo", Title: "A demo lab", Summary: "files as stand-ins for kernel state",
			Steps: []steps.Step{
				{ID: "demo/file", Title: "Make a flag", Check: flagCheck("flag"), Solve: touch("flag"), Cleanup: remove("flag")},
				{ID: "demo/quiz", Title: "Pick b", Quiz: demoQuiz, Solve: steps.SolveQuiz("demo/quiz", demoQuiz), Cleanup: steps.ClearQuiz("demo/quiz")},
				{
					ID: "demo/partial", Title: "Two halves", Points: 20,
					Setup: touch("setup-ran"),
					Check: checker.Weighted("both halves",
						checker.Part{Weight: 1, Check: flagCheck("left")},
						checker.Part{Weight: 1, Check: flagCheck("right")}),
					Solve: func(ctx context.Context, env *steps.Env) error {
						_ = touch("left")(ctx, env)
						return touch("right")(ctx, env)
					},
					Cleanup: func(ctx context.Context, env *steps.Env) error {
						_ = remove("left")(ctx, env)
						_ = remove("setup-ran")(ctx, env)
						return remove("right")(ctx, env)
					},
				},
			},
		},
		{
			ID: "other", Title: "Another lab",
			Steps: []steps.Step{{ID: "other/one", Title: "One", Check: flagCheck("never"), Solve: func(context.Context, *steps.Env) error { return nil }}},
		},
	}
}

type testEnv struct {
	f           *Factory
	out, errOut *bytes.Buffer
	prompter    *prompt.Scripted
}

func newTestEnv(t testing.TB) *testEnv {
	t.Helper()
	ios, _, out, errOut := TestIO()
	p := &prompt.Scripted{}
	f := &Factory{IO: ios, Root: filepath.Join(t.TempDir(), "state"), Labs: testLabs, Euid: func() int { return 0 }, Prompter: p}
	f.Host = func() checker.Host { return checker.LiveHost{Work: f.Work(), Answers: f.Store().Answer} }
	return &testEnv{f: f, out: out, errOut: errOut, prompter: p}
}

// run runs lab with args the way Main does, and returns the exit code.
func (e *testEnv) run(t testing.TB, args ...string) int {
	t.Helper()
	return e.runCtx(t, context.Background(), args...)
}

func (e *testEnv) runCtx(t testing.TB, ctx context.Context, args ...string) int {
	t.Helper()
	e.out.Reset()
	e.errOut.Reset()
	cmd := NewCmdRoot(e.f)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	code := exitCode(err)
	if code == ExitInternal && isUsage(err) {
		code = ExitUsage
	}
	if msg := err.Error(); msg != "" {
		fmt.Fprintln(e.errOut, "lab: "+msg)
	}
	return code
}

func (e *testEnv) progress(t testing.TB) *labs.Progress {
	t.Helper()
	p, err := e.f.Store().Load()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (e *testEnv) work(name string) string { return filepath.Join(e.f.Work(), "demo", name) }

func (e *testEnv) write(t testing.TB, name string) {
	t.Helper()
	if err := os.WriteFile(e.work(name), nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustContain(t testing.TB, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s does not contain %q:\n%s", what, w, got)
		}
	}
}

func oneLine(t testing.TB, what, got string) {
	t.Helper()
	if lines := strings.Split(strings.TrimSpace(got), "\n"); len(lines) != 1 || lines[0] == "" {
		t.Errorf("%s: want exactly one line, got %q", what, got)
	}
}
