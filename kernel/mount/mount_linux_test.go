package mount_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/lab-edu/lab/kernel/kerneltest"
	"github.com/lab-edu/lab/kernel/mount"
	"github.com/lab-edu/lab/kernel/procfs"
	"github.com/lab-edu/lab/kernel/reexec"
)

func TestMain(m *testing.M) {
	if reexec.Init() {
		return
	}
	os.Exit(m.Run())
}

// scratch is a temporary directory that is unmounted entirely at the end.
func scratch(t *testing.T) string {
	t.Helper()
	kerneltest.Requires(t, kerneltest.Root)
	dir := t.TempDir()
	t.Cleanup(func() {
		if err := mount.UnmountAll(dir); err != nil {
			t.Error(err)
		}
	})
	return dir
}

func find(t *testing.T, point string) procfs.Mount {
	t.Helper()
	mounts, err := mount.Mounts()
	if err != nil {
		t.Fatal(err)
	}
	m, ok := procfs.Find(mounts, point)
	if !ok {
		t.Fatalf("%s is not a mount point", point)
	}
	return m
}

func TestBindAndPropagation(t *testing.T) {
	dir := scratch(t)
	if err := mount.Bind(dir, dir); err != nil {
		t.Fatal(err)
	}
	for _, p := range []mount.Propagation{mount.Shared, mount.Private, mount.Shared} {
		if err := mount.SetPropagation(dir, p, false); err != nil {
			t.Fatal(err)
		}
		if got := find(t, dir).Propagation(); got != p.String() {
			t.Errorf("after make-%s: propagation %s", p, got)
		}
	}
	// A slave of a peer group with no other member has no master left:
	// the kernel makes it private.
	if err := mount.MakeSlave(dir); err != nil {
		t.Fatal(err)
	}
	if got := find(t, dir).Propagation(); got != "private" {
		t.Errorf("after make-slave of a lone shared mount: %s, want private", got)
	}
}

func TestTmpfsUnmountIdempotent(t *testing.T) {
	dir := scratch(t)
	target := filepath.Join(dir, "t")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := mount.Tmpfs("lab-test", target, "size=1m"); err != nil {
		t.Fatal(err)
	}
	if m := find(t, target); m.FSType != "tmpfs" || m.Source != "lab-test" {
		t.Fatalf("mounted %+v", m)
	}
	for range 2 { // the second unmount finds nothing: still success
		if err := mount.Unmount(target); err != nil {
			t.Fatal(err)
		}
	}
	if err := mount.Unmount(filepath.Join(dir, "missing")); err != nil {
		t.Fatalf("unmount of a missing path: %v, want nil", err)
	}
}

func TestMountErrorIsErrno(t *testing.T) {
	dir := scratch(t)
	err := mount.Mount{Source: "x", Target: filepath.Join(dir, "missing"), FSType: "tmpfs"}.Mount()
	var me *mount.Error
	if !errors.As(err, &me) || !errors.Is(err, unix.ENOENT) {
		t.Fatalf("err = %v, want *mount.Error wrapping ENOENT", err)
	}
}

func TestUnmountAllDeepestFirstAndBusy(t *testing.T) {
	dir := scratch(t)
	a := filepath.Join(dir, "a")
	if err := os.MkdirAll(a, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := mount.Tmpfs("lab-a", a, ""); err != nil {
		t.Fatal(err)
	}
	b := filepath.Join(a, "b")
	if err := os.Mkdir(b, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := mount.Tmpfs("lab-b", b, ""); err != nil {
		t.Fatal(err)
	}
	// A file held open keeps b busy: only a lazy unmount removes it.
	f, err := os.Create(filepath.Join(b, "held"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	points, err := mount.Mountpoints(dir)
	if err != nil || len(points) != 2 || points[0] != b {
		t.Fatalf("Mountpoints = %v, %v; want [%s %s]", points, err, b, a)
	}
	if err := mount.UnmountAll(dir); err != nil {
		t.Fatal(err)
	}
	if points, _ := mount.Mountpoints(dir); len(points) != 0 {
		t.Fatalf("still mounted: %v", points)
	}
}

func TestNamespaceCommandHidesMount(t *testing.T) {
	dir := scratch(t)
	target := filepath.Join(dir, "hidden")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd, err := mount.Namespace{
		Mounts: []mount.Mount{{Source: "lab-ns", Target: target, FSType: "tmpfs"}},
		Argv:   []string{"/bin/cat", "/proc/self/mountinfo"},
	}.Command()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	inside, err := procfs.ParseMountInfo(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := procfs.Find(inside, target); !ok || m.Source != "lab-ns" {
		t.Fatalf("the namespace has no lab-ns tmpfs at %s", target)
	}
	if ok, _ := mount.IsMountpoint(target); ok {
		t.Fatalf("the host sees the namespace's tmpfs at %s", target)
	}
}
