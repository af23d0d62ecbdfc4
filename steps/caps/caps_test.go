package capslab

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/kernel/caps"
	"github.com/lab-edu/lab/kernel/kerneltest"
	"github.com/lab-edu/lab/kernel/reexec"
	"github.com/lab-edu/lab/steps"
	"github.com/lab-edu/lab/steps/stepstest"
)

func TestMain(m *testing.M) {
	if reexec.Init() { // probes re-execute the test binary
		return
	}
	os.Exit(m.Run())
}

// fakeHost serves a MapFS for the quiz, which reads only /proc files.
type fakeHost struct{ fs fstest.MapFS }

func (h fakeHost) FS() fs.FS                    { return h.fs }
func (h fakeHost) Workspace() string            { return "/nowhere" }
func (h fakeHost) Answer(string) (string, bool) { return "", false }

func puzzleHost(bnd string) fakeHost {
	return fakeHost{fstest.MapFS{
		"proc/1/status":                  {Data: []byte("Name:\tinit\nCapBnd:\t" + bnd + "\n")},
		"proc/sys/kernel/cap_last_cap":   {Data: []byte("40\n")},
		"proc/sys/kernel/random/boot_id": {Data: []byte("1b3c6e0e-5d2f-4d52-9a55-3f0f3d7f2a11\n")},
	}}
}

func TestDecodeQuiz(t *testing.T) {
	ctx := context.Background()
	// This machine's PID 1 lacks cap_sys_resource (bit 24) in its bounding set.
	h := puzzleHost("000001fffeffffff")
	p, err := newPuzzle(h.FS())
	if err != nil {
		t.Fatal(err)
	}
	if p.Missing.Len() != 3 || !p.Missing.Has(caps.SysResource) || p.Mask|p.Missing != caps.Full(40) {
		t.Fatalf("puzzle %+v: want 3 missing including cap_sys_resource", p)
	}
	q, err := decodeQuiz.Ask(ctx, h)
	if err != nil || !strings.Contains(q.Text, p.Mask.Hex()) {
		t.Fatalf("Ask = %q, %v; want the mask %s in it", q.Text, err, p.Mask.Hex())
	}
	answer, err := decodeQuiz.Solution(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	if r := decodeQuiz.Grade(ctx, h, answer); r.Status != checker.Pass {
		t.Errorf("Grade(solution %q) = %s: %s", answer, r.Status, r.Reason)
	}
	// Names in any form and order.
	names := p.Missing.Names()
	upper := strings.ToUpper(names[2] + " , " + names[0] + "," + names[1])
	if r := decodeQuiz.Grade(ctx, h, upper); r.Status != checker.Pass {
		t.Errorf("Grade(%q) = %s: %s", upper, r.Status, r.Reason)
	}
	in := p.Mask.Caps()[0].String()
	for answer, want := range map[string]string{
		names[0] + "," + names[1]: "1 more capability",
		answer + "," + in:         in + " is in",
		"cap_nothing":             "unknown capability",
		"":                        "names no capability",
		answer + ",cap_41":        "0 to 40 only",
	} {
		r := decodeQuiz.Grade(ctx, h, answer)
		if r.Status != checker.Fail || !strings.Contains(r.Reason, want) {
			t.Errorf("Grade(%q) = %s %q, want fail with %q", answer, r.Status, r.Reason, want)
		}
	}
	// The same machine asks the same question; another boot another one.
	p2, _ := newPuzzle(h.FS())
	h.fs["proc/sys/kernel/random/boot_id"] = &fstest.MapFile{Data: []byte("00000000-0000-0000-0000-000000000001\n")}
	p3, _ := newPuzzle(h.FS())
	if p2 != p || p3.Init != p.Init {
		t.Errorf("puzzles: %+v then %+v", p, p2)
	}
}

// TestSolutionShellBlocks follows each step's text literally: the
// Solution block run with bash (capsh, setpriv, setcap as the student
// types them) must pass the check, and the step's Cleanup must remove
// what it made.
func TestSolutionShellBlocks(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root, kerneltest.Tool("capsh"), kerneltest.Tool("setpriv"),
		kerneltest.Tool("setcap"), kerneltest.Tool("getcap"), kerneltest.Tool("busybox"))
	ctx := context.Background()
	env := stepstest.NewEnv(t, Lab)
	t.Cleanup(func() { _ = Reset(context.Background(), env) })
	for _, s := range Steps {
		t.Run(s.Slug(), func(t *testing.T) {
			switch s.ID {
			case "caps/decode":
				p, err := newPuzzle(env.Host.FS())
				if err != nil {
					t.Fatal(err)
				}
				t.Setenv("MASK", p.Mask.Hex())
				out := stepstest.RunSolution(t, s.ID, env, 10*time.Second)
				if err := env.Answers.SetAnswer(s.ID, strings.TrimSpace(out)); err != nil {
					t.Fatal(err)
				}
			case "caps/containers":
				// The block is `lab check --answer`: check its answer.
				m := regexp.MustCompile(`--answer (\S+)`).FindStringSubmatch(stepstest.Solution(t, s.ID, env))
				if m == nil {
					t.Fatal("no --answer in the Solution block")
				}
				if err := env.Answers.SetAnswer(s.ID, m[1]); err != nil {
					t.Fatal(err)
				}
			default:
				stepstest.RunSolution(t, s.ID, env, 20*time.Second)
			}
			if r := stepstest.PassesSoon(ctx, s, env.Host, 3*time.Second); r.Status != checker.Pass {
				t.Fatalf("after the Solution block: %s: %s (hint: %s)", r.Status, r.Reason, r.Hint)
			}
		})
	}
	// Every step passes at the end, as `lab grade` would see it.
	for _, s := range Steps {
		if r := s.Verify(ctx, env.Host); r.Status != checker.Pass {
			t.Errorf("%s at the end of the lab: %s: %s", s.ID, r.Status, r.Reason)
		}
	}
	if err := Reset(ctx, env); err != nil {
		t.Fatal(err)
	}
	if pids := marked(t); len(pids) > 0 {
		t.Errorf("processes with %s left after Reset: %v", marker, pids)
	}
	if _, ok, _ := caps.ReadFileCaps(filepath.Join(env.Dir, binaryName)); ok {
		t.Error("file capabilities left after Reset")
	}
}

func marked(t *testing.T) []int {
	t.Helper()
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		b, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err == nil && strings.Contains("\x00"+string(b), "\x00"+marker+"=") {
			if pid, err := strconv.Atoi(e.Name()); err == nil {
				out = append(out, pid)
			}
		}
	}
	return out
}

// startTestShell starts bash with credentials c (as a student's shell
// that did something wrong), marked for cleanup.
func startTestShell(t *testing.T, c caps.Creds, bash string) {
	t.Helper()
	if bash == "" {
		bash = "/bin/bash"
	}
	cmd := caps.Command(c, bash, "-c", "sleep 60 & wait")
	cmd.Env = append(os.Environ(), marker+"=test")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = killMarked(os.DirFS("/"), "test"); _ = cmd.Wait() })
}

func verifySoon(t *testing.T, s steps.Step, h checker.Host, want string) checker.Result {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		r := s.Verify(context.Background(), h)
		if (r.Status == checker.Fail && strings.Contains(r.Reason, want)) || time.Now().After(deadline) {
			return r
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestWrongWork: what a student may get wrong fails with a precise reason.
func TestWrongWork(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root, kerneltest.Tool("busybox"), kerneltest.Tool("capsh"))
	env := stepstest.NewEnv(t, Lab)
	me, err := rootCreds(os.DirFS("/"))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("net_raw dropped from the effective set only", func(t *testing.T) {
		// A copy of bash with cap_net_raw+p, run by uid 65534: the
		// capability is permitted but not effective, bounding still has it.
		bash := filepath.Join(env.Dir, "bash")
		copyOrFatal(t, "/bin/bash", bash)
		if err := caps.WriteFileCaps(bash, caps.FileCaps{Permitted: caps.Of(caps.NetRaw)}); err != nil {
			t.Fatal(err)
		}
		startTestShell(t, nobodyCreds(me.Bounding), bash)
		r := verifySoon(t, NoRaw, env.Host, "effective set only")
		if r.Status != checker.Fail || !strings.Contains(r.Reason, "effective set only") || !strings.Contains(r.Reason, "permitted") {
			t.Errorf("got %s: %s", r.Status, r.Reason)
		}
	})
	t.Run("net_raw out of bounding but back through inheritable", func(t *testing.T) {
		// Inheritable first: once out of the bounding set, capset refuses
		// to add it to the inheritable set.
		cmd := exec.Command("capsh", "--inh=cap_net_raw", "--drop=cap_net_raw", "--", "-c", "sleep 60 & wait")
		cmd.Env = append(os.Environ(), marker+"=test")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = killMarked(os.DirFS("/"), "test"); _ = cmd.Wait() })
		r := verifySoon(t, NoRaw, env.Host, "opened a raw ICMP socket")
		if r.Status != checker.Fail || !strings.Contains(r.Reason, "out of its bounding set but still in") ||
			!strings.Contains(r.Reason, "a probe with its sets still opened a raw ICMP socket") {
			t.Errorf("got %s: %s", r.Status, r.Reason)
		}
	})
	t.Run("file capability without +e", func(t *testing.T) {
		stepstest.Do(t, solveFileCaps, context.Background(), env)
		t.Cleanup(func() { _ = cleanupFileCaps(context.Background(), env) })
		path := filepath.Join(env.Dir, binaryName)
		if err := caps.WriteFileCaps(path, caps.FileCaps{Permitted: caps.Of(caps.NetBindService)}); err != nil {
			t.Fatal(err)
		}
		r := FileCaps.Verify(context.Background(), env.Host)
		if r.Status != checker.Fail || !strings.Contains(r.Reason, "no effective bit") || !strings.Contains(r.Found, "cap_net_bind_service=p") {
			t.Errorf("got %s: %s", r.Status, r.Reason)
		}
		// And the kernel agrees: with only +p, nobody cannot bind.
		res, err := caps.TryBind(context.Background(), nobodyCreds(me.Bounding), 80, bindWait, bindArgv(path)...)
		if err != nil || res.Bound {
			t.Errorf("+p only: %+v, %v; want no bind", res, err)
		}
	})
	t.Run("file capability on another capability", func(t *testing.T) {
		stepstest.Do(t, solveFileCaps, context.Background(), env)
		t.Cleanup(func() { _ = cleanupFileCaps(context.Background(), env) })
		path := filepath.Join(env.Dir, binaryName)
		if err := caps.WriteFileCaps(path, caps.FileCaps{Permitted: caps.Of(caps.NetRaw), Effective: true}); err != nil {
			t.Fatal(err)
		}
		if r := FileCaps.Verify(context.Background(), env.Host); r.Status != checker.Fail || !strings.Contains(r.Reason, "cap_net_raw=ep") {
			t.Errorf("got %s: %s", r.Status, r.Reason)
		}
	})
	t.Run("root shell with a partial bounding set", func(t *testing.T) {
		stepstest.Do(t, NoRaw.Solve, context.Background(), env)
		t.Cleanup(func() { _ = NoRaw.Cleanup(context.Background(), env) })
		r := verifySoon(t, RootNoCaps, env.Host, "still has")
		if r.Status != checker.Fail || !strings.Contains(r.Reason, "capabilities in its bounding set") {
			t.Errorf("got %s: %s", r.Status, r.Reason)
		}
	})
	t.Run("no_new_privs on a root shell", func(t *testing.T) {
		stepstest.Do(t, solveFileCaps, context.Background(), env)
		t.Cleanup(func() { _ = cleanupFileCaps(context.Background(), env) })
		c := me
		c.NoNewPrivs = true
		startTestShell(t, c, "")
		r := verifySoon(t, NoNewPrivs, env.Host, "runs as root")
		if r.Status != checker.Fail || !strings.Contains(r.Reason, "runs as root") {
			t.Errorf("got %s: %s", r.Status, r.Reason)
		}
	})
	t.Run("no_new_privs without the privileged binary", func(t *testing.T) {
		stepstest.Do(t, NoNewPrivs.Solve, context.Background(), env)
		t.Cleanup(func() { _ = NoNewPrivs.Cleanup(context.Background(), env) })
		r := verifySoon(t, NoNewPrivs, env.Host, "nothing for no_new_privs to stop")
		if r.Status != checker.Fail || !strings.Contains(r.Reason, "nothing for no_new_privs to stop") {
			t.Errorf("got %s: %s", r.Status, r.Reason)
		}
	})
}

func copyOrFatal(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	out.Close()
}

// TestCheckNeedsNoMarker: a shell started without LAB_CAPS (the marker
// only helps Reset) passes on its capability sets alone.
func TestCheckNeedsNoMarker(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root, kerneltest.Tool("capsh"))
	env := stepstest.NewEnv(t, Lab)
	cmd := exec.Command("capsh", "--drop=cap_net_raw", "--", "-c", "read line")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); _ = cmd.Wait() })
	r := stepstest.PassesSoon(context.Background(), NoRaw, env.Host, 3*time.Second)
	if r.Status != checker.Pass || !strings.Contains(strings.Join(r.Evidence, " "), fmt.Sprintf("pid %d", cmd.Process.Pid)) {
		t.Errorf("got %s %q %v, want a pass naming pid %d", r.Status, r.Reason, r.Evidence, cmd.Process.Pid)
	}
}

// BenchmarkFindShells measures the scan of /proc every shell check does.
func BenchmarkFindShells(b *testing.B) {
	fsys := os.DirFS("/")
	for b.Loop() {
		if _, err := findShells(fsys); err != nil {
			b.Fatal(err)
		}
	}
}
