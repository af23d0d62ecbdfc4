package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/labs"
	"github.com/lab-edu/lab/steps"
	"github.com/lab-edu/lab/steps/stepstest"
)

func TestArgsToOptions(t *testing.T) {
	e := newTestEnv(t)
	var got *checkOptions
	cmd := newCmdCheck(e.f, func(o *checkOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"demo/quiz", "--json", "--answer", "b"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.StepID != "demo/quiz" || !got.JSON || got.Answer != "b" || got.Watch {
		t.Errorf("check options = %+v", got)
	}
	var g *gradeOptions
	gcmd := newCmdGrade(e.f, func(o *gradeOptions) error { g = o; return nil })
	gcmd.SetArgs([]string{"--lab", "demo", "--format", "tap", "--out", "x.tap", "--submission", "dir", "--timeout", "5s"})
	if err := gcmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if g.Lab != "demo" || g.Format != "tap" || g.Out != "x.tap" || g.Submission != "dir" || g.Timeout != 5*time.Second {
		t.Errorf("grade options = %+v", g)
	}
	var s *solveOptions
	scmd := newCmdSolve(e.f, func(o *solveOptions) error { s = o; return nil })
	scmd.SetArgs([]string{"--show"})
	if err := scmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if s.StepID != "" || !s.Show {
		t.Errorf("solve options = %+v", s)
	}
}

func TestStudentLoop(t *testing.T) {
	e := newTestEnv(t)
	if code := e.run(t, "start", "demo"); code != 0 {
		t.Fatalf("start: exit %d: %s", code, e.errOut)
	}
	mustContain(t, "start output", e.out.String(), "Welcome to demo in "+e.f.Work()+"/demo", "Step 1/3", "Create "+e.work("flag"))
	if st, err := os.Stat(filepath.Join(e.f.Work(), "demo")); err != nil || !st.IsDir() {
		t.Fatalf("start did not create the workspace: %v", err)
	}
	if p := e.progress(t); p.Current != "demo/file" {
		t.Fatalf("current = %q, want demo/file", p.Current)
	}

	if code := e.run(t, "check"); code != ExitFailed {
		t.Fatalf("check unsolved: exit %d, want 1", code)
	}
	mustContain(t, "failing check", e.out.String(), "✗ demo/file", "no file "+e.work("flag"), "hint: touch")
	if p := e.progress(t); p.Step("demo/file").Status != labs.Todo {
		t.Fatal("a failing check changed the step's status")
	}

	e.write(t, "flag")
	if code := e.run(t, "check"); code != 0 {
		t.Fatalf("check solved: exit %d: %s", code, e.errOut)
	}
	mustContain(t, "passing check", e.out.String(), "✓ demo/file", "kernel/demo.Flag does the same", "# Pick b", "Step 2/3")
	p := e.progress(t)
	if p.Step("demo/file").Status != labs.Passed || p.Current != "demo/quiz" {
		t.Fatalf("after pass: status %q current %q, want passed, demo/quiz", p.Step("demo/file").Status, p.Current)
	}

	if code := e.run(t, "status"); code != 0 {
		t.Fatalf("status: exit %d", code)
	}
	mustContain(t, "status", e.out.String(), "Lab demo", "1/3 steps done", "Step 2/3: demo/quiz")

	if code := e.run(t, "list"); code != 0 {
		t.Fatalf("list: exit %d", code)
	}
	mustContain(t, "list", e.out.String(), "✓ demo/file", "> · demo/quiz", "1/3", "other")

	if code := e.run(t, "list", "--json"); code != 0 {
		t.Fatalf("list --json: exit %d", code)
	}
	var listed []listLab
	if err := json.Unmarshal(e.out.Bytes(), &listed); err != nil || len(listed) != 2 || listed[0].Done != 1 || !listed[0].Steps[1].Current {
		t.Fatalf("list --json = %v (%v)", listed, err)
	}

	if code := e.run(t, "next"); code != 0 {
		t.Fatalf("next: exit %d", code)
	}
	mustContain(t, "next", e.out.String(), "Step 3/3")
	mustContain(t, "next note", e.errOut.String(), "demo/quiz is not done yet")
	if _, err := os.Stat(e.work("setup-ran")); err == nil {
		t.Error("next ran the step's setup; only goto does")
	}

	if code := e.run(t, "goto", "demo/partial"); code != 0 {
		t.Fatalf("goto: exit %d: %s", code, e.errOut)
	}
	if _, err := os.Stat(e.work("setup-ran")); err != nil {
		t.Error("goto did not run the step's setup")
	}
	mustContain(t, "setup log on stderr", e.errOut.String(), "creating setup-ran")

	e.write(t, "left")
	if code := e.run(t, "check", "--json"); code != ExitFailed {
		t.Fatalf("check half done: exit %d, want 1", code)
	}
	var rep checker.StepReport
	if err := json.Unmarshal(e.out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Points != 10 || rep.MaxPoints != 20 || rep.Result.Status != checker.Fail {
		t.Errorf("half done: %+v, want 10/20 fail", rep)
	}

	e.write(t, "right")
	if code := e.run(t, "check"); code != 0 {
		t.Fatalf("check last: exit %d", code)
	}
	mustContain(t, "last pass", e.out.String(), "All of demo done.", "lab grade --lab demo")
}

func TestQuiz(t *testing.T) {
	e := newTestEnv(t)
	if code := e.run(t, "check", "demo/quiz"); code != ExitUsage {
		t.Fatalf("quiz without --answer off a terminal: exit %d, want 2", code)
	}
	oneLine(t, "quiz without answer", e.errOut.String())
	mustContain(t, "quiz without answer", e.errOut.String(), "--answer")

	if code := e.run(t, "check", "demo/quiz", "--answer", "c"); code != ExitFailed {
		t.Fatalf("wrong answer: exit %d, want 1", code)
	}
	mustContain(t, "wrong answer", e.out.String(), "answer c is not right")
	if code := e.run(t, "check", "demo/quiz", "--answer", "B"); code != 0 {
		t.Fatalf("right answer: exit %d: %s %s", code, e.out, e.errOut)
	}
	if a, ok := e.f.Store().Answer("demo/quiz"); !ok || a != "B" {
		t.Errorf("recorded answer = %q, %v", a, ok)
	}
	// Off a terminal, a recorded answer is graded again.
	if code := e.run(t, "check", "demo/quiz"); code != 0 {
		t.Fatalf("recorded answer: exit %d", code)
	}
	if code := e.run(t, "check", "demo/file", "--answer", "b"); code != ExitUsage {
		t.Fatalf("--answer on a kernel step: exit %d, want 2", code)
	}

	// On a terminal the question is asked with the prompter.
	e.f.IO.SetTTY(true, true)
	e.prompter.Answers = []any{[]int{0}, []int{1}}
	if code := e.run(t, "check", "demo/quiz"); code != ExitFailed {
		t.Fatalf("prompted wrong answer: exit %d", code)
	}
	if code := e.run(t, "check", "demo/quiz"); code != 0 {
		t.Fatalf("prompted right answer: exit %d: %s", code, e.errOut)
	}
	if len(e.prompter.Asked) != 2 || !strings.HasPrefix(e.prompter.Asked[0], "Which letter?") {
		t.Errorf("asked %q", e.prompter.Asked)
	}
}

func TestStartPicksOnTerminal(t *testing.T) {
	e := newTestEnv(t)
	if code := e.run(t, "start"); code != ExitUsage {
		t.Fatalf("start without lab off a terminal: exit %d, want 2", code)
	}
	mustContain(t, "start without lab", e.errOut.String(), "name a lab", "demo, other")
	e.f.IO.SetTTY(true, true)
	e.prompter.Answers = []any{1}
	if code := e.run(t, "start"); code != 0 {
		t.Fatalf("start picked: exit %d: %s", code, e.errOut)
	}
	if p := e.progress(t); p.Current != "other/one" {
		t.Errorf("current = %q, want other/one", p.Current)
	}
}

func TestHint(t *testing.T) {
	e := newTestEnv(t)
	if code := e.run(t, "start", "demo"); code != 0 {
		t.Fatal(code)
	}
	for n := 1; n <= 4; n++ {
		if code := e.run(t, "hint"); code != 0 {
			t.Fatalf("hint %d: exit %d: %s", n, code, e.errOut)
		}
		out := e.out.String()
		shown := min(n, 3)
		mustContain(t, "hint output", out, "Hint "+string(rune('0'+shown))+"/3")
		if strings.Contains(out, "Hint "+string(rune('0'+shown+1))) {
			t.Errorf("call %d showed more than %d hints:\n%s", n, shown, out)
		}
		mustContain(t, "targeted hint", out, "From what the checker sees now: no file "+e.work("flag"))
		if n >= 3 {
			mustContain(t, "last hint", out, "touch "+e.work("flag"), "last hint")
		}
	}
	if got := e.progress(t).Step("demo/file").Hints; got != 3 {
		t.Errorf("hints recorded = %d, want 3", got)
	}
	// Without root hint still works.
	e.f.Euid = func() int { return 1000 }
	if code := e.run(t, "hint"); code != 0 {
		t.Fatalf("hint as non-root: exit %d", code)
	}
}

func TestSolve(t *testing.T) {
	e := newTestEnv(t)
	if code := e.run(t, "solve", "--show", "demo/file"); code != 0 {
		t.Fatalf("solve --show: exit %d: %s", code, e.errOut)
	}
	mustContain(t, "solve --show", e.out.String(), "touch "+e.work("flag"))
	if _, err := os.Stat(e.f.Root); err == nil {
		t.Error("solve --show changed the state directory")
	}
	if code := e.run(t, "start", "demo"); code != 0 {
		t.Fatal(code)
	}
	if code := e.run(t, "solve"); code != 0 {
		t.Fatalf("solve: exit %d: %s", code, e.errOut)
	}
	mustContain(t, "solve", e.out.String(), "✓ demo/file", "recorded as solved", "Step 2/3")
	p := e.progress(t)
	if p.Step("demo/file").Status != labs.Solved || p.Current != "demo/quiz" {
		t.Fatalf("after solve: %q current %q", p.Step("demo/file").Status, p.Current)
	}
	// Checking the reference solution does not make it passed.
	if code := e.run(t, "check", "demo/file"); code != 0 {
		t.Fatal(code)
	}
	if p := e.progress(t); p.Step("demo/file").Status != labs.Solved {
		t.Errorf("check after solve: status %q, want solved", p.Step("demo/file").Status)
	}
	// A quiz is solved by recording the right answer.
	if code := e.run(t, "solve", "demo/quiz"); code != 0 {
		t.Fatalf("solve quiz: exit %d: %s", code, e.errOut)
	}
	if a, _ := e.f.Store().Answer("demo/quiz"); a != "b" {
		t.Errorf("solved quiz answer = %q, want b", a)
	}
}

// TestCancelledSolve: Ctrl-C during a Solve leaves progress as it was.
func TestCancelledSolve(t *testing.T) {
	e := newTestEnv(t)
	started := make(chan struct{})
	e.f.Labs = func() []labs.Lab {
		return []labs.Lab{{ID: "demo", Steps: []steps.Step{{
			ID: "demo/slow", Title: "Slow", Check: flagCheck("flag"),
			Solve: func(ctx context.Context, env *steps.Env) error {
				close(started)
				<-ctx.Done()
				return ctx.Err()
			},
		}}}}
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-started; cancel() }()
	if code := e.runCtx(t, ctx, "solve", "demo/slow"); code != ExitInterrupted {
		t.Fatalf("interrupted solve: exit %d, want %d: %s", code, ExitInterrupted, e.errOut)
	}
	oneLine(t, "interrupted solve", e.errOut.String())
	mustContain(t, "interrupted solve", e.errOut.String(), "lab reset demo")
	if st := e.progress(t).Step("demo/slow").Status; st != labs.Todo {
		t.Errorf("interrupted solve recorded %q", st)
	}
}

func TestReset(t *testing.T) {
	e := newTestEnv(t)
	if code := e.run(t, "start", "demo"); code != 0 {
		t.Fatal(code)
	}
	if code := e.run(t, "solve"); code != 0 {
		t.Fatal(code)
	}
	if code := e.run(t, "check", "demo/quiz", "--answer", "b"); code != 0 {
		t.Fatal(code)
	}
	for range 2 { // idempotent
		if code := e.run(t, "reset"); code != 0 {
			// the second time there is no current lab: name it
			if code = e.run(t, "reset", "demo"); code != 0 {
				t.Fatalf("reset: exit %d: %s", code, e.errOut)
			}
		}
		if _, err := os.Stat(filepath.Join(e.f.Work(), "demo")); err == nil {
			t.Fatal("reset left the workspace")
		}
		p := e.progress(t)
		if p.Current != "" || len(p.Steps) != 0 {
			t.Fatalf("reset left progress: %+v", p)
		}
	}
	if code := e.run(t, "reset", "demo", "--all"); code != ExitUsage {
		t.Errorf("reset LAB --all: exit %d, want 2", code)
	}
	if code := e.run(t, "reset", "--all"); code != 0 {
		t.Fatalf("reset --all: exit %d: %s", code, e.errOut)
	}
}

func TestGrade(t *testing.T) {
	e := newTestEnv(t)
	if code := e.run(t, "start", "demo"); code != 0 {
		t.Fatal(code)
	}
	e.write(t, "flag")
	e.write(t, "left")
	if code := e.run(t, "grade", "--lab", "demo"); code != ExitFailed {
		t.Fatalf("grade half done: exit %d, want 1", code)
	}
	mustContain(t, "grade text", e.out.String(), "✓ demo/file", "✗ demo/quiz", "10/20", "20/40 points")

	out := filepath.Join(t.TempDir(), "grade.xml")
	if code := e.run(t, "grade", "--lab", "demo", "--format", "junit", "--out", out); code != ExitFailed {
		t.Fatalf("grade junit: exit %d", code)
	}
	b, err := os.ReadFile(out)
	if err != nil || !bytes.Contains(b, []byte(`<testsuite name="demo" tests="3" failures="2"`)) {
		t.Fatalf("junit report: %v\n%s", err, b)
	}
	mustContain(t, "grade --out", e.errOut.String(), "20/40 points")

	// --report: the same grading in more formats at once.
	dir := t.TempDir()
	e.out.Reset()
	if code := e.run(t, "grade", "--lab", "demo", "--report", "junit="+dir+"/r.xml", "--report", "classroom="+dir+"/r.json"); code != ExitFailed {
		t.Fatalf("grade --report: exit %d", code)
	}
	mustContain(t, "grade --report text", e.out.String(), "20/40 points")
	if b, err := os.ReadFile(dir + "/r.xml"); err != nil || !bytes.Contains(b, []byte(`<testsuite name="demo" tests="3" failures="2"`)) {
		t.Errorf("--report junit: %v\n%s", err, b)
	}
	if b, err := os.ReadFile(dir + "/r.json"); err != nil || !bytes.Contains(b, []byte(`"max_score": 40`)) {
		t.Errorf("--report classroom: %v\n%s", err, b)
	}
	for bad, why := range map[string]string{"junit": "want FORMAT=FILE", "xml=r.xml": `unknown format "xml"`, "junit=": "want FORMAT=FILE"} {
		if code := e.run(t, "grade", "--lab", "demo", "--report", bad); code != ExitUsage {
			t.Errorf("--report %s: exit %d, want 2", bad, code)
		}
		mustContain(t, "--report "+bad, e.errOut.String(), why)
	}

	// Saved progress is never trusted: a step recorded as passed whose
	// state is gone fails.
	if err := e.f.Store().Update(func(p *labs.Progress) error { p.MarkPassed("demo/partial", time.Now()); return nil }); err != nil {
		t.Fatal(err)
	}
	if code := e.run(t, "grade", "--lab", "demo", "--format", "classroom"); code != ExitFailed {
		t.Fatalf("grade classroom: exit %d", code)
	}
	var res struct {
		Status   string `json:"status"`
		MaxScore int    `json:"max_score"`
		Tests    []struct {
			Score float64 `json:"score"`
		} `json:"tests"`
	}
	if err := json.Unmarshal(e.out.Bytes(), &res); err != nil || res.Status != "fail" || res.MaxScore != 40 || res.Tests[2].Score != 10 {
		t.Fatalf("classroom = %+v (%v)", res, err)
	}

	e.write(t, "right")
	if code := e.run(t, "check", "demo/quiz", "--answer", "b"); code != 0 {
		t.Fatal(code)
	}
	if code := e.run(t, "grade", "--lab", "demo", "--format", "tap"); code != 0 {
		t.Fatalf("grade all done: exit %d:\n%s", code, e.out)
	}
	mustContain(t, "tap", e.out.String(), "TAP version 14\n1..3\n", "ok 3 - demo/partial")
}

func TestSubmission(t *testing.T) {
	e := newTestEnv(t)
	dir := t.TempDir()
	script := func(body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "demo.sh"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	grade := func(args ...string) (int, map[string]any) {
		t.Helper()
		code := e.run(t, append([]string{"grade", "--format", "json", "--submission", dir}, args...)...)
		var doc map[string]any
		if err := json.Unmarshal(e.out.Bytes(), &doc); err != nil {
			t.Fatalf("grade json: %v\n%s%s", err, e.out, e.errOut)
		}
		if _, err := os.Stat(filepath.Join(e.f.Work(), "demo")); err == nil {
			t.Error("submission grading left the workspace behind")
		}
		return code, doc
	}

	// Empty directory, one lab named: zero.
	code, doc := grade("--lab", "demo")
	if code != ExitFailed || doc["points"] != 0.0 || doc["max_points"] != 40.0 {
		t.Fatalf("empty submission: exit %d, %v/%v", code, doc["points"], doc["max_points"])
	}

	// Half right: the flag and one half.
	script("set -e\ncd \"$LAB_WORK\"\ntouch flag left\necho done half\n")
	code, doc = grade()
	if code != ExitFailed || doc["points"] != 20.0 {
		t.Fatalf("half submission: exit %d, points %v, want 20", code, doc["points"])
	}
	if labsDoc := doc["labs"].([]any); len(labsDoc) != 1 {
		t.Errorf("graded %d labs, want only demo (the one with a script)", len(labsDoc))
	} else {
		ev, _ := json.Marshal(labsDoc[0].(map[string]any)["evidence"])
		mustContain(t, "evidence", string(ev), "demo.sh exited 0", "done half")
	}

	// Everything but the quiz: an answer recorded before the submission
	// is wiped by the reset before the script runs, so it does not count.
	script("touch flag left right\n")
	if err := e.f.Store().SetAnswer("demo/quiz", "b"); err != nil {
		t.Fatal(err)
	}
	code, doc = grade()
	if code != ExitFailed || doc["points"] != 30.0 {
		t.Errorf("submission without the quiz: exit %d, %v points, want 1, 30", code, doc["points"])
	}
	if _, ok := e.f.Store().Answer("demo/quiz"); ok {
		t.Error("grading left a quiz answer behind")
	}

	// Timeout kills the whole process group, background children too.
	pidFile := filepath.Join(t.TempDir(), "pid")
	script("sleep 60 &\necho $! > " + pidFile + "\nsleep 60\n")
	start := time.Now()
	code, doc = grade("--timeout", "300ms", "--settle", "0")
	if time.Since(start) > 20*time.Second {
		t.Errorf("timeout took %s", time.Since(start))
	}
	ev, _ := json.Marshal(doc["labs"])
	mustContain(t, "timeout evidence", string(ev), "timed out after 300ms")
	if code != ExitFailed {
		t.Errorf("timed out: exit %d", code)
	}
	assertDead(t, pidFile)

	// A background process left by a normal exit is killed after grading.
	script("sleep 60 &\necho $! > " + pidFile + "\n")
	grade("--settle", "0")
	assertDead(t, pidFile)

	// What the script started in the background may reach its state a
	// moment after the script exits (a jail detaching its old root): the
	// failing steps are re-checked for --settle before they count.
	script("(sleep 0.3; touch flag left right) &\n")
	if code, doc = grade("--settle", "0"); doc["points"] != 0.0 {
		t.Errorf("late state without settling: exit %d, %v points, want 0", code, doc["points"])
	}
	if code, doc = grade(); doc["points"] != 30.0 {
		t.Errorf("late state with the default --settle: exit %d, %v points, want 30", code, doc["points"])
	}
}

func assertDead(t *testing.T, pidFile string) {
	t.Helper()
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid := strings.TrimSpace(string(b))
	for range 50 {
		st, err := os.ReadFile("/proc/" + pid + "/stat")
		if err != nil || bytes.Contains(st, []byte(") Z")) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("background process %s of the script is still alive", pid)
}

func TestNotRoot(t *testing.T) {
	e := newTestEnv(t)
	e.f.Euid = func() int { return 1000 }
	for _, args := range [][]string{
		{"start", "demo"}, {"check", "demo/file"}, {"solve", "demo/file"}, {"reset", "demo"},
		{"reset", "--all"}, {"grade"}, {"goto", "demo/file"}, {"dev", "check"},
	} {
		if code := e.run(t, args...); code != ExitEnv {
			t.Errorf("lab %s as non-root: exit %d, want 3", strings.Join(args, " "), code)
		}
		oneLine(t, strings.Join(args, " "), e.errOut.String())
		mustContain(t, strings.Join(args, " "), e.errOut.String(), "sudo")
	}
	for _, args := range [][]string{{"list"}, {"status"}, {"hint", "demo/file"}, {"version"}, {"solve", "--show", "demo/file"}} {
		if code := e.run(t, args...); code != 0 {
			t.Errorf("lab %s as non-root: exit %d, want 0: %s", strings.Join(args, " "), code, e.errOut)
		}
	}
	if _, err := os.Stat(e.f.Work()); err == nil {
		t.Error("a refused command created the workspace")
	}
}

func TestBadInput(t *testing.T) {
	e := newTestEnv(t)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"start", "nosuch"}, `"nosuch"`},
		{[]string{"check", "nosuch/step"}, `"nosuch/step"`},
		{[]string{"check", "demo/nosuch"}, `lab list demo`},
		{[]string{"check", "nostep"}, `LAB/STEP`},
		{[]string{"check"}, "lab start"},
		{[]string{"goto", "demo/nosuch"}, `"demo/nosuch"`},
		{[]string{"hint", "x/y"}, `"x/y"`},
		{[]string{"grade", "--format", "xml"}, `"xml"`},
		{[]string{"grade", "--lab", "nosuch"}, `"nosuch"`},
		{[]string{"grade", "--submission", "/nonexistent"}, "/nonexistent"},
		{[]string{"grade", "--timeout", "0s"}, "--timeout"},
		{[]string{"grade", "--settle", "-1s"}, "--settle -1s"},
		{[]string{"reset", "nosuch"}, `"nosuch"`},
		{[]string{"list", "nosuch"}, `"nosuch"`},
		{[]string{"dev", "check", "nosuch"}, `"nosuch"`},
		{[]string{"check", "--nosuch"}, "--nosuch"},
		{[]string{"nosuch"}, "nosuch"},
		{[]string{"goto"}, "arg"},
	} {
		if code := e.run(t, tt.args...); code != ExitUsage {
			t.Errorf("lab %s: exit %d, want 2 (%s)", strings.Join(tt.args, " "), code, e.errOut)
		}
		oneLine(t, strings.Join(tt.args, " "), e.errOut.String())
		mustContain(t, strings.Join(tt.args, " "), e.errOut.String(), tt.want)
	}
	if _, err := os.Stat(e.f.Root); err == nil {
		t.Error("bad input created the state directory")
	}
}

func TestCorruptState(t *testing.T) {
	e := newTestEnv(t)
	if err := os.MkdirAll(e.f.Root, 0o755); err != nil {
		t.Fatal(err)
	}
	garbage := []byte("{\"version\": 1, \"steps\": {\"demo/file\": [}\n")
	path := e.f.Store().Path()
	if err := os.WriteFile(path, garbage, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"list"}, {"status"}, {"check", "demo/file"}, {"start", "demo"}, {"hint"}, {"reset", "demo"}, {"solve", "demo/file"}, {"grade", "--submission", t.TempDir()}} {
		if code := e.run(t, args...); code != ExitUsage {
			t.Errorf("lab %s with a garbage state: exit %d, want 2", strings.Join(args, " "), code)
		}
		oneLine(t, strings.Join(args, " "), e.errOut.String())
		mustContain(t, strings.Join(args, " "), e.errOut.String(), path, "lab reset --all")
		if b, _ := os.ReadFile(path); !bytes.Equal(b, garbage) {
			t.Fatalf("lab %s changed the garbage state file", strings.Join(args, " "))
		}
	}
	if _, err := os.Stat(filepath.Join(e.f.Work(), "demo", "flag")); err == nil {
		t.Error("solve ran with a garbage state")
	}
	if code := e.run(t, "reset", "--all"); code != 0 {
		t.Fatalf("reset --all: exit %d: %s", code, e.errOut)
	}
	if b, _ := os.ReadFile(path + ".corrupt"); !bytes.Equal(b, garbage) {
		t.Error("reset --all lost the garbage file instead of keeping it aside")
	}
	if code := e.run(t, "list"); code != 0 {
		t.Errorf("list after reset --all: exit %d", code)
	}
}

func TestUnknownStepIDsInState(t *testing.T) {
	e := newTestEnv(t)
	if err := os.MkdirAll(e.f.Root, 0o755); err != nil {
		t.Fatal(err)
	}
	old := `{"version": 1, "current": "demo/renamed", "steps": {"demo/renamed": {"status": "passed"}, "gone/lab": {"hints": 2}, "demo/file": {"status": "passed"}}}`
	if err := os.WriteFile(e.f.Store().Path(), []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	if code := e.run(t, "status"); code != 0 {
		t.Fatalf("status: exit %d: %s", code, e.errOut)
	}
	// The current step was renamed: the first step not done is current.
	mustContain(t, "status", e.out.String(), "Step 2/3: demo/quiz")
	if code := e.run(t, "check", "demo/quiz", "--answer", "b"); code != 0 {
		t.Fatal(code)
	}
	p := e.progress(t)
	if p.Step("gone/lab").Hints != 2 || p.Step("demo/renamed").Status != labs.Passed {
		t.Error("unknown step IDs were not kept")
	}
}

func TestDoctor(t *testing.T) {
	e := newTestEnv(t)
	opts := &doctorOptions{f: e.f, Sys: hybridHost(), LookPath: func(name string) (string, error) {
		if name == "capsh" {
			return "", os.ErrNotExist
		}
		return "/usr/bin/" + name, nil
	}}
	err := runDoctor(opts)
	if exitCode(err) != ExitEnv || !strings.Contains(err.Error(), "capsh") {
		t.Fatalf("doctor without capsh: %v, want exit 3 naming capsh", err)
	}
	out := e.out.String()
	mustContain(t, "doctor", out,
		"✓ root", "Linux 6.1.0-test", "hybrid: v1 controllers cpu memory pids; cgroup2 at /sys/fs/cgroup/unified (no controllers)",
		"✓ overlayfs", "user.max_user_namespaces=15000", "unprivileged users may not",
		"✗ capsh", "apt-get install libcap2-bin", "✓ virtual machine  yes (QEMU)",
		"- lab-init         not beside lab") // a test binary has none beside it
	if n := strings.Count(out, "\n"); n != 14 {
		t.Errorf("doctor printed %d lines, want 14 (one per item)", n)
	}
	if it := labInitItem("/usr/local/bin/lab-init", true); !it.OK || !strings.HasPrefix(it.Detail, "/usr/local/bin/lab-init") {
		t.Errorf("lab-init installed: %+v", it)
	}
}

func hybridHost() fsMap {
	return fsMap{
		"proc/self/mountinfo": "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n" +
			"32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n" +
			"35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n" +
			"39 31 0:36 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n" +
			"40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n" +
			"41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw,nsdelegate\n",
		"sys/fs/cgroup/unified/cgroup.controllers":  "",
		"proc/sys/kernel/osrelease":                 "6.1.0-test\n",
		"proc/filesystems":                          "nodev\tproc\nnodev\toverlay\n",
		"proc/sys/user/max_user_namespaces":         "15000\n",
		"proc/sys/kernel/unprivileged_userns_clone": "0\n",
		"sys/class/dmi/id/sys_vendor":               "QEMU\n",
	}
}

func TestCgroupModes(t *testing.T) {
	for _, tt := range []struct {
		name, mountinfo, controllers, mode string
		v1, v2                             []string
	}{
		{"v2", "30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n", "cpuset cpu io memory pids\n", "v2", nil, []string{"cpuset", "cpu", "io", "memory", "pids"}},
		{"v1", "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n", "", "v1", []string{"cpu", "cpuacct", "memory"}, nil},
		{"none", "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n", "", "none", nil, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			info, err := ReadCgroupInfo(fsMap{"proc/self/mountinfo": tt.mountinfo, "sys/fs/cgroup/cgroup.controllers": tt.controllers})
			if err != nil {
				t.Fatal(err)
			}
			if info.Mode != tt.mode || !slices.Equal(info.V1, tt.v1) || !slices.Equal(info.V2, tt.v2) {
				t.Errorf("ReadCgroupInfo = %+v, want %s v1 %v v2 %v", info, tt.mode, tt.v1, tt.v2)
			}
		})
	}
	if info, _ := ReadCgroupInfo(hybridHost()); info.Mode != "hybrid" {
		t.Errorf("hybrid host: mode %s", info.Mode)
	}
}

func TestVersion(t *testing.T) {
	e := newTestEnv(t)
	if code := e.run(t, "version"); code != 0 || !strings.HasPrefix(e.out.String(), "lab dev (go") {
		t.Errorf("version: exit %d, %q", code, e.out)
	}
	if code := e.run(t, "completion", "bash"); code != 0 || !strings.Contains(e.out.String(), "bash completion") {
		t.Errorf("completion bash: exit %d", code)
	}
}

func TestStartResumes(t *testing.T) {
	e := newTestEnv(t)
	if code := e.run(t, "goto", "demo/partial"); code != 0 {
		t.Fatal(code)
	}
	e.write(t, "left")
	if code := e.run(t, "start", "demo"); code != 0 {
		t.Fatal(code)
	}
	mustContain(t, "resume", e.errOut.String(), "resuming demo at step 3/3")
	mustContain(t, "resume", e.out.String(), "Step 3/3")
	if p := e.progress(t); p.Current != "demo/partial" {
		t.Errorf("current = %q", p.Current)
	}
}

func TestDevCheck(t *testing.T) {
	e := newTestEnv(t)
	var leak bool
	snap := func() stepstest.State {
		if leak {
			return stepstest.State{"netns": {"lab-leaked"}}
		}
		return stepstest.State{}
	}
	good := labs.Lab{ID: "demo", Steps: testLabs()[0].Steps}
	broken := labs.Lab{ID: "demo", Steps: []steps.Step{
		{ID: "demo/always", Title: "Passes unsolved", Check: func(context.Context, checker.Host) checker.Result { return checker.Passed("x") }},
		{ID: "demo/nosolve", Title: "Solve does not solve", Check: flagCheck("flag"), Solve: func(context.Context, *steps.Env) error { return nil }},
		{ID: "demo/leaky", Title: "Leaves a netns", Check: flagCheck("flag"), Solve: func(ctx context.Context, env *steps.Env) error { leak = true; return touch("flag")(ctx, env) }},
	}}
	run := func(l labs.Lab) (string, error) {
		e.out.Reset()
		e.f.Labs = func() []labs.Lab { return []labs.Lab{l} }
		err := runDevCheck(context.Background(), &devCheckOptions{f: e.f, Snapshot: snap, Settle: 10 * time.Millisecond})
		return e.out.String(), err
	}
	out, err := run(good)
	if err != nil {
		t.Fatalf("dev check of good steps: %v\n%s", err, out)
	}
	if n := strings.Count(out, "✓ demo/"); n != 3 {
		t.Errorf("want 3 ✓ lines:\n%s", out)
	}
	mustContain(t, "dev check", out, "✓ demo/file (setup ", "solve ", "cleanup ")

	out, err = run(broken)
	if exitCode(err) != ExitFailed || !strings.Contains(err.Error(), "3 step(s)") {
		t.Fatalf("dev check of broken steps: %v", err)
	}
	mustContain(t, "dev check broken", out,
		"✗ demo/always: unsolved: status pass, want fail",
		"✗ demo/nosolve: solved: status fail, want pass",
		"✗ demo/leaky: cleanup left the host changed", "lab-leaked")
	if _, err := os.Stat(filepath.Join(e.f.Work(), "demo")); err == nil {
		t.Error("dev check used the learner's workspace")
	}
	if entries, _ := os.ReadDir(e.f.Root); len(entries) != 0 {
		t.Errorf("dev check left %v in the state directory", entries)
	}
}
