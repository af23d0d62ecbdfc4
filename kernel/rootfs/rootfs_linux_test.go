package rootfs_test

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lab-edu/lab/kernel/kerneltest"
	"github.com/lab-edu/lab/kernel/mount"
	"github.com/lab-edu/lab/kernel/reexec"
	"github.com/lab-edu/lab/kernel/rootfs"
)

func TestMain(m *testing.M) {
	if reexec.Init() {
		return
	}
	os.Exit(m.Run())
}

// busyboxRoot builds a busybox rootfs in a fresh directory and registers
// the removal of everything that may use it.
func busyboxRoot(t *testing.T) (work, root string) {
	t.Helper()
	kerneltest.Requires(t, kerneltest.Root, kerneltest.Tool("busybox"))
	work = t.TempDir()
	root = filepath.Join(work, "rootfs")
	t.Cleanup(func() {
		if _, err := rootfs.KillUsers(work); err != nil {
			t.Error(err)
		}
		if err := mount.UnmountAll(work); err != nil {
			t.Error(err)
		}
	})
	if err := rootfs.BuildBusybox(t.Context(), root); err != nil {
		t.Fatal(err)
	}
	return work, root
}

func TestBuildBusyboxRunsShell(t *testing.T) {
	_, root := busyboxRoot(t)
	link, err := os.Readlink(filepath.Join(root, "bin", "sh"))
	if err != nil || link != "/bin/busybox" {
		t.Fatalf("bin/sh -> %q, %v; want /bin/busybox", link, err)
	}
	out, errOut, err := rootfs.Output(t.Context(), rootfs.Command(root, "/bin/sh", "-c", "echo ok; ls /"))
	if err != nil {
		t.Fatalf("run sh in rootfs: %v: %s", err, errOut)
	}
	if !strings.HasPrefix(string(out), "ok\n") || !strings.Contains(string(out), "bin") {
		t.Fatalf("output = %q, want ok and the rootfs listing", out)
	}
}

func TestCommandMissingShell(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root)
	root := t.TempDir()
	_, errOut, err := rootfs.Output(t.Context(), rootfs.Command(root, "/bin/sh", "-c", "echo ok"))
	if err == nil || !strings.Contains(string(errOut), "no such file") {
		t.Fatalf("err = %v, stderr %q; want exec failure naming ENOENT", err, errOut)
	}
}

func TestEscapeFromPlainChroot(t *testing.T) {
	work, _ := busyboxRoot(t)
	jail := filepath.Join(work, "jail")
	if err := os.MkdirAll(filepath.Join(jail, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	res, err := rootfs.EscapeFrom(t.Context(), jail)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Escaped {
		t.Fatalf("escape from a plain chroot reached %s, want the host root %s (%v)", res.Reached, res.HostRoot, res.Entries)
	}
}

func TestPivotJailResistsEscape(t *testing.T) {
	work, root := busyboxRoot(t)
	pid, err := rootfs.StartDetached(rootfs.PivotCommand(root, "/bin/sleep", "1000"))
	if err != nil {
		t.Fatal(err)
	}
	waitRoot(t, pid, root)
	res, err := rootfs.EscapeFromProcess(t.Context(), pid)
	if err != nil {
		t.Fatal(err)
	}
	if res.Escaped {
		t.Fatalf("escape from a pivot_root jail reached the host root: %v", res.Entries)
	}
	if !slices.Contains(res.Entries, "bin") {
		t.Fatalf("escape ended in %v, want the jail's own root", res.Entries)
	}
	users, err := rootfs.Users(work)
	if err != nil || !slices.Contains(users, pid) {
		t.Fatalf("Users(%s) = %v, %v; want it to find the jail %d", work, users, err, pid)
	}
	killed, err := rootfs.KillUsers(work)
	if err != nil || !slices.Contains(killed, pid) {
		t.Fatalf("KillUsers = %v, %v; want %d", killed, err, pid)
	}
}

func TestUsersFindsChrootAndNamespaceMount(t *testing.T) {
	work, root := busyboxRoot(t)
	chrooted, err := rootfs.StartDetached(rootfs.Command(root, "/bin/sleep", "1000"))
	if err != nil {
		t.Fatal(err)
	}
	waitRoot(t, chrooted, root)
	users, err := rootfs.Users(work)
	if err != nil || !slices.Contains(users, chrooted) {
		t.Fatalf("Users = %v, %v; want the chrooted %d", users, err, chrooted)
	}
	other, err := rootfs.Users(t.TempDir())
	if err != nil || len(other) != 0 {
		t.Fatalf("Users(empty dir) = %v, %v; want none", other, err)
	}
}

func TestMountProcAndMinimalDev(t *testing.T) {
	_, root := busyboxRoot(t)
	if err := rootfs.MountProc(root); err != nil {
		t.Fatal(err)
	}
	if err := rootfs.MinimalDev(root); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := rootfs.Output(t.Context(), rootfs.Command(root, "/bin/sh", "-c", "ls /proc/1 >/dev/null && echo x > /dev/null && ls /dev"))
	if err != nil {
		t.Fatalf("%v: %s", err, errOut)
	}
	for _, want := range []string{"null", "zero", "urandom", "tty", "stdout"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("/dev lists %q, want %s", out, want)
		}
	}
}

// waitRoot waits until pid has its root switched (it starts as a copy of
// this binary with our root).
func waitRoot(t *testing.T, pid int, root string) {
	t.Helper()
	want, err := os.Stat(root)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if got, err := os.Stat("/proc/" + itoa(pid) + "/root"); err == nil && os.SameFile(got, want) {
			if exe, _ := os.Readlink("/proc/" + itoa(pid) + "/exe"); strings.HasSuffix(exe, "busybox") {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("process %d never had %s as its root", pid, root)
}

func itoa(n int) string { return strconv.Itoa(n) }
