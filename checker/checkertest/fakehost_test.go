package checkertest_test

import (
	"io/fs"
	"testing"

	"github.com/lab-edu/lab/checker/checkertest"
	"github.com/lab-edu/lab/kernel/procfs"
)

func TestFakeHostProcess(t *testing.T) {
	h := checkertest.New()
	h.AddProcess(checkertest.Proc{PID: 42, Comm: "sleep", Root: "/w/rootfs", NS: map[string]string{"mnt": "mnt:[1]"}})
	fsys := h.FS()
	if root, err := procfs.Root(fsys, 42); err != nil || root != "/w/rootfs" {
		t.Fatalf("Root = %q, %v", root, err)
	}
	if ns, err := procfs.NsLink(fsys, 42, "mnt"); err != nil || ns != "mnt:[1]" {
		t.Fatalf("mnt ns = %q, %v", ns, err)
	}
	if ns, err := fs.ReadLink(fsys, "proc/self/ns/mnt"); err != nil || ns != checkertest.HostNS["mnt"] {
		t.Fatalf("proc/self/ns/mnt = %q, %v; want the host's", ns, err)
	}
	if m, err := procfs.ReadMountInfo(fsys, "self"); err != nil || len(m) != 4 {
		t.Fatalf("self mountinfo = %v, %v", m, err)
	}
	if st, err := procfs.ReadStatus(fsys, 42); err != nil || st.Name != "sleep" {
		t.Fatalf("status = %+v, %v", st, err)
	}
	h.Remove("/proc/42")
	if _, err := procfs.Root(fsys, 42); err == nil {
		t.Fatal("process still there after Remove")
	}
}
