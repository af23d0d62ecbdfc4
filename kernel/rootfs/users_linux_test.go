package rootfs_test

import (
	"os"
	"path/filepath"
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
