package chrootlab

import (
	"context"
	"strings"
	"testing"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/checker/checkertest"
)

// The static parts of the checks, against a fake host: no root needed.

const root = "/var/lib/lab/work/chroot/rootfs"

func fakeRootfs() *checkertest.FakeHost {
	h := checkertest.New()
	h.AddDir(root)
	h.AddFile(root+"/bin/busybox", "#!not really busybox", 0o755)
	h.AddSymlink(root+"/bin/sh", "/bin/busybox")
	return h
}

func TestRootfsStaticChecks(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(h *checkertest.FakeHost)
		check  checker.Check
		want   string
	}{
		{"no rootfs", func(h *checkertest.FakeHost) { h.Remove(root) }, rootfsIsDir, "nothing there"},
		{"rootfs is a file", func(h *checkertest.FakeHost) { h.Remove(root); h.AddFile(root, "x", 0o644) }, rootfsIsDir, "expected a directory"},
		{"missing shell", func(h *checkertest.FakeHost) { h.Remove(root + "/bin/sh") }, shellIsExecutable, "the rootfs has no shell"},
		{"broken symlink", func(h *checkertest.FakeHost) { h.Remove(root + "/bin/busybox") }, shellIsExecutable, "/bin/sh is a broken symlink"},
		{"not executable", func(h *checkertest.FakeHost) { h.AddFile(root+"/bin/busybox", "x", 0o644) }, shellIsExecutable, "mode 0644: no execute bit"},
		{"shell is a directory", func(h *checkertest.FakeHost) { h.Remove(root + "/bin/sh"); h.AddDir(root + "/bin/sh") }, shellIsExecutable, "is a directory"},
		{"not a program", func(h *checkertest.FakeHost) {}, shellIsExecutable, "cannot be executed: a script"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := fakeRootfs()
			tt.mutate(h)
			r := tt.check(context.Background(), h)
			if r.Status != checker.Fail || !strings.Contains(r.Reason, tt.want) {
				t.Fatalf("check = %s %q, want fail with %q", r.Status, r.Reason, tt.want)
			}
			if r.Hint == "" {
				t.Fatal("a failing check must say what to try")
			}
		})
	}
}

func TestProcessCheckFake(t *testing.T) {
	h := fakeRootfs()
	if r := checkProcess(context.Background(), h); r.Status != checker.Fail || !strings.Contains(r.Reason, "found none") {
		t.Fatalf("no process: %s %q", r.Status, r.Reason)
	}
	h.AddProcess(checkertest.Proc{PID: 77, Comm: "sleep", Root: root})
	if r := checkProcess(context.Background(), h); r.Status != checker.Pass {
		t.Fatalf("a chrooted sleep: %s %q, want pass", r.Status, r.Reason)
	}
}

func TestProcMountedFake(t *testing.T) {
	h := fakeRootfs()
	if r := procMounted(context.Background(), h); r.Status != checker.Fail || !strings.Contains(r.Reason, "no mount there") {
		t.Fatalf("nothing mounted: %s %q", r.Status, r.Reason)
	}
	h.AddProcess(checkertest.Proc{PID: 1000, Comm: "lab", MountInfo: checkertest.HostMountInfo +
		"80 27 0:60 / " + root + "/proc rw - tmpfs lab-x rw\n"})
	if r := procMounted(context.Background(), h); r.Status != checker.Fail || !strings.Contains(r.Reason, "found tmpfs") {
		t.Fatalf("tmpfs at proc: %s %q", r.Status, r.Reason)
	}
}

// CheckJail's verdicts that need no escape probe.
func TestJailCheckFake(t *testing.T) {
	check := CheckJail(func(checker.Host) string { return root }, false)
	tests := []struct {
		name string
		proc *checkertest.Proc
		want string
		pass bool
	}{
		{"nothing running", nil, "found none", false},
		{"plain chroot", &checkertest.Proc{PID: 50, Comm: "sleep", Root: root}, "shares the host's mount namespace", false},
		{"old root still mounted", &checkertest.Proc{PID: 51, Comm: "sleep", Root: root, NS: map[string]string{"mnt": "mnt:[4026532999]"},
			MountInfo: "65 42 254:0 " + root + " / rw - ext4 /dev/vda rw\n66 65 254:0 / /old_root rw - ext4 /dev/vda rw\n"},
			"mounted at /old_root", false},
		{"pivoted", &checkertest.Proc{PID: 52, Comm: "sleep", Root: root, NS: map[string]string{"mnt": "mnt:[4026532999]"},
			MountInfo: "65 42 254:0 " + root + " / rw - ext4 /dev/vda rw\n"},
			"", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := fakeRootfs()
			if tt.proc != nil {
				h.AddProcess(*tt.proc)
			}
			r := check(context.Background(), h)
			if tt.pass {
				if r.Status != checker.Pass {
					t.Fatalf("%s %q, want pass", r.Status, r.Reason)
				}
				return
			}
			if r.Status != checker.Fail || !strings.Contains(r.Reason, tt.want) {
				t.Fatalf("%s %q, want fail with %q", r.Status, r.Reason, tt.want)
			}
		})
	}
}
