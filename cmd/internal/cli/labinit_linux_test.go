package cli

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lab-edu/lab/kernel/container"
	"github.com/lab-edu/lab/kernel/image"
	"github.com/lab-edu/lab/kernel/kerneltest"
	"github.com/lab-edu/lab/kernel/procfs"
	"github.com/lab-edu/lab/steps/stepstest"
)

// labInitBesideTestBinary installs lab-init beside this test binary for
// the test's duration, so the `lab` commands the test runs (this binary
// as cli.Main) start containers as an installed lab does: with lab-init,
// and with lab-init as the waiting supervisor of detached containers.
func labInitBesideTestBinary(t *testing.T) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	path, err := stepstest.InstallLabInit(filepath.Dir(exe))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(path) })
}

// A detached container's supervisor waits as lab-init (execve keeps the
// container its child), in under 3 MiB of resident memory, and once the
// container ends, lab finishes the job: exit code, logs, cgroup gone.
func TestDetachedSupervisorIsLabInit(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root, kerneltest.StaticBinary, kerneltest.Tool("busybox"))
	labInitBesideTestBinary(t)
	root := busyboxState(t)
	before := stepstest.Snapshot(t)
	t.Cleanup(func() { runBinary(t, root, "container", "prune", "--all") })

	code, out, stderr := runBinary(t, root, "run", "-d", "--net", "none", "--name", "lab-t-waiter", "busybox",
		"sh", "-c", "trap 'exit 7' TERM; echo started; while :; do sleep 0.05; done")
	if code != 0 {
		t.Fatalf("run -d: exit %d: %s", code, stderr)
	}
	c, err := container.Load(root, strings.TrimSpace(out))
	if err != nil {
		t.Fatal(err)
	}
	sup := c.State.Supervisor
	// The supervisor reports the start, then replaces itself with lab-init.
	var args []string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(sup) + "/cmdline")
		if err != nil {
			t.Fatal(err)
		}
		if args = strings.Split(string(cmdline), "\x00"); len(args) > 2 && args[0] == "lab-init" && args[1] == "wait" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("supervisor %d runs %q, want lab-init wait", sup, args)
		}
	}
	// Once it sleeps in wait4, lab-init has given back the pages its start
	// touched (DropExecutablePages): its resident set is then what stays.
	var rss string
	for deadline := time.Now().Add(stepstest.ScaleTimeout(5 * time.Second)); ; time.Sleep(10 * time.Millisecond) {
		status, err := procfs.ReadStatus(os.DirFS("/"), sup)
		if err != nil {
			t.Fatal(err)
		}
		rss = status.Fields["VmRSS"]
		kib, _ := strconv.Atoi(strings.TrimSuffix(rss, " kB"))
		if kib > 0 && kib < 3*1024 && strings.HasPrefix(status.State, "S") {
			break
		}
		if time.Now().After(deadline) {
			rollup, _ := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", sup))
			t.Fatalf("supervisor resident set %q (state %s; RssAnon %s, RssFile %s), want under 3 MiB while it waits\n%s",
				rss, status.State, status.Fields["RssAnon"], status.Fields["RssFile"], rollup)
		}
	}
	// PID 1 ignores SIGTERM until its trap is set: wait for what follows.
	waitForLog(t, c, "started")
	if code, _, stderr := runBinary(t, root, "stop", "lab-t-waiter"); code != 0 {
		t.Fatalf("stop: exit %d: %s", code, stderr)
	}
	if err := c.Refresh(); err != nil || c.State.Status != container.Exited || c.State.ExitCode != 7 {
		t.Fatalf("after the container ended: %+v, %v", c.State, err)
	}
	if _, logs, _ := runBinary(t, root, "logs", "lab-t-waiter"); logs != "started\n" {
		t.Errorf("logs: %q", logs)
	}
	if code, _, stderr := runBinary(t, root, "rm", "lab-t-waiter"); code != 0 {
		t.Fatalf("rm: exit %d: %s", code, stderr)
	}
	stepstest.Same(t, before, stepstest.Snapshot(t))
}

// waitForLog waits up to 10 s for text in the container's log.
func waitForLog(t *testing.T, c *container.Container, text string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if b, _ := os.ReadFile(c.LogPath()); strings.Contains(string(b), text) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%q not in the log of %s after 10s", text, c.Name)
		}
	}
}

// busyboxState is a fresh state directory with the busybox image.
func busyboxState(t *testing.T) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "state")
	s, err := image.Open(filepath.Join(root, "images"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ImportBusybox("", "busybox", image.Options{}); err != nil {
		t.Fatal(err)
	}
	return root
}

// Ctrl-C on `lab run` reaches the container's PID 1 (docker's sig-proxy),
// whose trap decides the exit code that lab then returns.
func TestRunForwardsSignals(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root, kerneltest.StaticBinary, kerneltest.Tool("busybox"))
	root := busyboxState(t)
	before := stepstest.Snapshot(t)
	cmd := exec.Command(os.Args[0], "run", "--rm", "--net", "none", "busybox",
		"sh", "-c", "trap 'exit 9' INT; echo ready; while :; do sleep 0.05; done")
	cmd.Env = append(os.Environ(), "LAB_TEST_MAIN=1", "LAB_ROOT="+root)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ready\n" {
		_ = cmd.Process.Kill()
		t.Fatalf("first line %q, %v", line, err)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 9 {
		t.Fatalf("lab run after Ctrl-C: %v, want exit 9 from the container's trap", err)
	}
	stepstest.Same(t, before, stepstest.Snapshot(t))
}

// LAB_TRACE=1 writes the phases of a run, the parent's and the init's, to
// stderr on one clock, in the order they happen; without it, nothing.
func TestTracePhases(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root, kerneltest.StaticBinary, kerneltest.Tool("busybox"))
	labInitBesideTestBinary(t)
	root := busyboxState(t)
	if code, _, stderr := runBinary(t, root, "run", "--rm", "--net", "none", "busybox", "true"); code != 0 || stderr != "" {
		t.Fatalf("untraced run: exit %d, stderr %q", code, stderr)
	}
	t.Setenv("LAB_TRACE", "1")
	code, _, stderr := runBinary(t, root, "run", "--rm", "--net", "none", "busybox", "true")
	if code != 0 {
		t.Fatalf("traced run: exit %d: %s", code, stderr)
	}
	// Each phase causes the next one of a chain (the init reads its
	// config only once released, and so on). "init running" is left out:
	// the init may reach main before or after its release; and the init
	// builds its root while lab finishes the network, so those two are in
	// chains of their own.
	chains := [][]string{
		{"lab create", "lab init started", "lab address leased, release",
			"init released", "init root ready", "init execve", "lab command running", "lab command ended", "lab finished"},
		{"lab address leased, release", "lab network wired, go", "init execve"},
	}
	type event struct {
		us    int64
		phase string
	}
	var events []event
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		f := strings.SplitN(line, " ", 3)
		if len(f) != 3 || f[0] != "lab-trace:" {
			t.Fatalf("trace line %q is not \"lab-trace: MICROSECONDS WHO PHASE\"", line)
		}
		us, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			t.Fatalf("trace line %q: %v", line, err)
		}
		events = append(events, event{us, f[2]})
	}
	sort.SliceStable(events, func(a, b int) bool { return events[a].us < events[b].us })
	for _, want := range chains {
		i := 0
		for _, e := range events {
			if i < len(want) && strings.HasPrefix(e.phase, want[i]) {
				i++
			}
		}
		if i < len(want) {
			t.Errorf("phase %q missing or out of time order in:\n%s", want[i], stderr)
		}
	}
}
