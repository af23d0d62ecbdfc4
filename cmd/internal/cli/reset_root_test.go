package cli

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lab-edu/lab/kernel/kerneltest"
)

// TestRemoveWorkspaceStopsAtMounts: a mount left in a workspace (a bind
// mount of / would be the worst) is reported, and nothing under it is
// deleted.
func TestRemoveWorkspaceStopsAtMounts(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root, kerneltest.Tool("mount"))
	work := filepath.Join(t.TempDir(), "demo")
	mnt := filepath.Join(work, "rootfs", "proc")
	if err := os.MkdirAll(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "lab-test", mnt).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", mnt).Run() })
	keep := filepath.Join(mnt, "precious")
	if err := os.WriteFile(keep, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := removeWorkspace(work)
	if exitCode(err) != ExitEnv || !strings.Contains(err.Error(), "umount -R "+mnt) {
		t.Fatalf("removeWorkspace over a mount = %v, want exit 3 naming the mount", err)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Fatalf("a file under the mount was deleted: %v", err)
	}
	if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
		t.Fatalf("umount: %v: %s", err, out)
	}
	if err := removeWorkspace(work); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(work); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("workspace still there: %v", err)
	}
}
