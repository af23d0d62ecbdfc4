package rootfs_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/lab-edu/lab/kernel/kerneltest"
	"github.com/lab-edu/lab/kernel/mount"
	"github.com/lab-edu/lab/kernel/rootfs"
)

// A bind mount of the host's / inside the workspace must not make every
// process of the machine a "user" of the workspace.
func TestUsersIgnoresHostRootBoundInside(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root)
	work := t.TempDir()
	host := filepath.Join(work, "rootfs", "host")
	if err := os.MkdirAll(host, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mount.UnmountAll(work) })
	if err := mount.Bind("/", host); err != nil {
		t.Fatal(err)
	}
	users, err := rootfs.Users(work)
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 0 {
		t.Fatalf("Users = %v, want none: no process has its root in %s", users, work)
	}
}

// A process in a new mount namespace that has not mounted anything yet is
// found by its command line naming the directory (a solve killed right
// after it started `unshare -m sh -c 'mount ... DIR/x'`); the same command
// in this namespace is not.
func TestUsersFindsNamespaceProcessByCommandLine(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root, kerneltest.Tool("sh"))
	work := t.TempDir()
	start := func(newNS bool) *exec.Cmd {
		cmd := exec.Command("sh", "-c", "sleep 100; : "+filepath.Join(work, "x"))
		// A process group of its own, killed whole: sh forks sleep (a
		// command follows it), which would outlive a kill of sh alone.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if newNS {
			cmd.SysProcAttr.Cloneflags = syscall.CLONE_NEWNS
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); _ = cmd.Wait() })
		return cmd
	}
	inNS, onHost := start(true), start(false)
	users, err := rootfs.Users(work)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(users, inNS.Process.Pid) || slices.Contains(users, onHost.Process.Pid) {
		t.Errorf("Users = %v, want %d (new mount namespace) and not %d (this namespace)", users, inNS.Process.Pid, onHost.Process.Pid)
	}
	if other, _ := rootfs.Users(work + "-other"); slices.Contains(other, inNS.Process.Pid) {
		t.Errorf("Users(%s-other) lists %d, whose command line names %s only", work, inNS.Process.Pid, work)
	}
}
