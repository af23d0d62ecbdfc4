package stepstest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/content"
	"github.com/lab-edu/lab/steps"
)

// Solution returns the shell commands of step id's Solution section with
// {{work}} rendered as env.Dir: exactly what `lab solve --show` prints.
func Solution(t testing.TB, id string, env *steps.Env) string {
	t.Helper()
	doc, err := content.Step(id, "")
	if err != nil {
		t.Fatal(err)
	}
	script := doc.Shell()
	if strings.TrimSpace(script) == "" {
		t.Fatalf("step %s: the Solution section has no ```sh block", id)
	}
	return content.Render(script, env.Dir)
}

// RunSolution runs step id's Solution block literally with bash -e (so
// the first failing command fails the test), in env.Dir, with a time
// limit, and returns what it printed. Output goes to a file, not a pipe:
// a background process the script starts (a detached sleep in a
// namespace) may keep its copy of stdout open forever, and waiting for a
// pipe to close would hang. On timeout the whole process group is killed.
// The limit is a guard against a hang, scaled by $LAB_TEST_TIMEOUT_SCALE
// (see ScaleTimeout).
func RunSolution(t testing.TB, id string, env *steps.Env, timeout time.Duration) string {
	t.Helper()
	timeout = ScaleTimeout(timeout)
	script := Solution(t, id, env)
	dir := t.TempDir()
	path := filepath.Join(dir, "solution.sh")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := os.OpenFile(filepath.Join(dir, "output"), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal("bash is needed to run the Solution blocks")
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bash, "--noprofile", "--norc", "-e", path)
	cmd.Dir = env.Dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	runErr := cmd.Run()
	b, _ := os.ReadFile(out.Name())
	if runErr != nil {
		t.Fatalf("solution of %s: bash: %v\n--- script\n%s--- output\n%s", id, runErr, script, b)
	}
	return string(b)
}

// PassesSoon re-runs s's check until it passes, for up to within (a
// background process the solution started may need a moment to reach its
// state), and returns the last result.
func PassesSoon(ctx context.Context, s steps.Step, h checker.Host, within time.Duration) checker.Result {
	deadline := time.Now().Add(within)
	for {
		r := s.Verify(ctx, h)
		if r.Status == checker.Pass || time.Now().After(deadline) {
			return r
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ScaleTimeout multiplies a test's guard against hangs by the whole number
// in $LAB_TEST_TIMEOUT_SCALE, if any. The test VM sets it: it emulates its
// CPU in software, where Go code runs about 6x and `go build` about 27x
// slower than on the host. A guard, never a measure of speed: speed is
// measured by benchmarks.
func ScaleTimeout(d time.Duration) time.Duration {
	if n, err := strconv.Atoi(os.Getenv("LAB_TEST_TIMEOUT_SCALE")); err == nil && n > 1 {
		return d * time.Duration(n)
	}
	return d
}
