package nslab

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/kernel/kerneltest"
	"github.com/lab-edu/lab/kernel/ns"
	"github.com/lab-edu/lab/steps"
	"github.com/lab-edu/lab/steps/stepstest"
)

// hold starts a holder from env's workspace (so it carries the lab's
// marker) and kills it when the test ends.
func hold(t *testing.T, env *steps.Env, spec ns.Spec, opts ns.HoldOptions) int {
	t.Helper()
	cmd := ns.HoldCommand(spec, opts)
	cmd.Dir = env.Dir
	pid, err := ns.StartDetached(cmd)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ns.KillPIDs(pid) })
	return pid
}

// failsWith re-runs check until it fails with a reason containing every
// want (the process just started needs a moment), or gives up after 3s.
func failsWith(t *testing.T, ctx context.Context, s steps.Step, h checker.Host, want ...string) {
	t.Helper()
	var r checker.Result
	for i := 0; i < 60; i++ {
		r = s.Verify(ctx, h)
		ok := r.Status == checker.Fail
		for _, w := range want {
			ok = ok && strings.Contains(r.Reason+" "+r.Hint, w)
		}
		if ok {
			t.Logf("reason: %s (hint: %s)", r.Reason, r.Hint)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: status %s, reason %q, hint %q; want a failure saying %q", s.ID, r.Status, r.Reason, r.Hint, want)
}

func TestWrongUTSHostname(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root)
	env := stepstest.NewEnv(t, "uts")
	hold(t, env, ns.Spec{New: []ns.Kind{ns.UTS}}, ns.HoldOptions{Hostname: "lab-wrong"})
	failsWith(t, t.Context(), UTSHostnameStep, env.Host, "expected a UTS namespace whose hostname is lab-uts", `"lab-wrong"`)
}

func TestWrongHostnameOnTheHost(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root)
	env := stepstest.NewEnv(t, "uts")
	// Renaming the real host is not allowed in tests: the host's
	// namespace reports lab-uts through a stand-in reader instead.
	host := ns.HostPID(env.Host.FS())
	real := readUTS
	readUTS = func(pid int) (ns.Names, error) {
		n, err := real(pid)
		if pid == host {
			n.Hostname, n.Domainname = UTSHostname, UTSDomain
		}
		return n, err
	}
	t.Cleanup(func() { readUTS = real })
	failsWith(t, t.Context(), UTSHostnameStep, env.Host, "the host's own hostname is lab-uts")
	failsWith(t, t.Context(), UTSDomainname, env.Host, "the host's own NIS domain name is lab-nis")
}

func TestWrongPIDNoOwnProc(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root)
	env := stepstest.NewEnv(t, "pid")
	// A new PID namespace, but the host's /proc: unshare --pid --fork without --mount-proc.
	hold(t, env, ns.Spec{New: []ns.Kind{ns.PID}}, ns.HoldOptions{})
	failsWith(t, t.Context(), PIDInit, env.Host, "is PID 1 of pid:", "not that namespace's own")
}

func TestWrongPIDNoFork(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root, kerneltest.Tool("unshare"))
	env := stepstest.NewEnv(t, "pid")
	// unshare --pid without --fork: sleep runs in the host's PID
	// namespace, only its children would go to the new one.
	cmd := exec.Command("unshare", "--pid", "sleep", "30")
	cmd.Dir = env.Dir
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	failsWith(t, t.Context(), PIDInit, env.Host, "made a new PID namespace but is not in it", "--fork")
}

func TestWrongUserNoMap(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root)
	env := stepstest.NewEnv(t, "user")
	hold(t, env, ns.Spec{New: []ns.Kind{ns.User}}, ns.HoldOptions{})
	failsWith(t, t.Context(), UserMap, env.Host, "has no uid_map")
}

func TestWrongUserRootIsRoot(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root)
	env := stepstest.NewEnv(t, "user")
	root := []ns.IDMap{{Inside: 0, Outside: 0, Count: 1}}
	hold(t, env, ns.Spec{New: []ns.Kind{ns.User}, UIDMap: root, GIDMap: root, AsRootInside: true}, ns.HoldOptions{})
	failsWith(t, t.Context(), UserMap, env.Host, "maps uid 0 inside to uid 0 outside")
}

func TestWrongUserNoOwnMount(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root)
	env := stepstest.NewEnv(t, "user")
	stepstest.Do(t, solveUserMap, t.Context(), env)
	t.Cleanup(func() { _ = cleanupUser(context.Background(), env) })
	failsWith(t, t.Context(), UserCaps, env.Host, "is in a mount namespace owned by user:")
}

func TestWrongIPCQueueOnTheHost(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root)
	env := stepstest.NewEnv(t, "ipc")
	// The student's shell is in its own IPC namespace, but the queue was
	// made before unshare, in the host's.
	hold(t, env, ns.Spec{New: []ns.Kind{ns.IPC}}, ns.HoldOptions{})
	id, err := ns.CreateMsgQueue(IPCKey, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ns.RemoveMsgQueue(id) })
	failsWith(t, t.Context(), IPCQueue, env.Host, "has no message queue", "the host's IPC namespace has")
	// Reset removes the lab's key from the host's namespace.
	if err := cleanupIPC(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	q, err := ns.MsgQueues(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range q {
		if m.Key == IPCKey {
			t.Fatal("cleanup left the lab's queue in the host's IPC namespace")
		}
	}
}

// TestCleanupUnbindsNamespaceFiles: a namespace kept alive by a bind mount
// in the workspace (unshare --uts=FILE) is gone after Cleanup.
func TestCleanupUnbindsNamespaceFiles(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root, kerneltest.Tool("unshare"))
	for _, lab := range nsLabs {
		t.Run(lab.id, func(t *testing.T) {
			env := stepstest.NewEnv(t, lab.id)
			file := env.Dir + "/held-ns"
			if err := os.WriteFile(file, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			flag := map[string]string{"uts": "--uts=", "pid": "--ipc=", "user": "--uts=", "ipc": "--ipc="}[lab.id]
			if out, err := exec.Command("unshare", flag+file, "true").CombinedOutput(); err != nil {
				t.Fatalf("unshare %s%s: %v: %s", flag, file, err, out)
			}
			t.Cleanup(func() { _ = exec.Command("umount", file).Run() })
			if err := lab.steps[0].Cleanup(context.Background(), env); err != nil {
				t.Fatal(err)
			}
			mi, _ := os.ReadFile("/proc/self/mountinfo")
			if strings.Contains(string(mi), file) {
				t.Fatalf("%s is still mounted after %s's Cleanup", file, lab.steps[0].ID)
			}
		})
	}
}

func TestWrongShmOnTheHost(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root)
	env := stepstest.NewEnv(t, "ipc")
	stepstest.Do(t, solveIPCQueue, t.Context(), env)
	t.Cleanup(func() { _ = cleanupIPC(context.Background(), env) })
	id, err := ns.CreateShm(IPCKey, 4096, 0o600) // in the host's namespace: ipcmk without nsenter
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ns.RemoveShm(id) })
	failsWith(t, t.Context(), IPCShm, env.Host, "has no shared memory segment", "the host's IPC namespace has")
	if err := cleanupIPC(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	segs, err := ns.ShmSegments(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range segs {
		if s.Key == IPCKey {
			t.Fatal("cleanup left the lab's segment in the host's IPC namespace")
		}
	}
}
