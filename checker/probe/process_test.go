package probe_test

import (
	"strings"
	"testing"

	"github.com/lab-edu/lab/checker/checkertest"
	"github.com/lab-edu/lab/checker/probe"
	"github.com/lab-edu/lab/kernel/procfs"
)

func TestWithRootAndOtherNamespaces(t *testing.T) {
	h := checkertest.New()
	h.AddProcess(checkertest.Proc{PID: 42, Comm: "sleep", Root: "/w/rootfs"})
	h.AddProcess(checkertest.Proc{PID: 43, Comm: "sleep", NS: map[string]string{"mnt": "mnt:[4026532000]"}})
	h.AddProcess(checkertest.Proc{PID: 2, Comm: "kthreadd", Exe: "-"})
	got, err := probe.WithRoot(h.FS(), "/w/rootfs")
	if err != nil || len(got) != 1 || got[0].PID != 42 {
		t.Fatalf("WithRoot = %v, %v; want PID 42", got, err)
	}
	other, err := probe.InOtherMntNS(h.FS())
	if err != nil || len(other) != 1 || other[0].PID != 43 {
		t.Fatalf("InOtherMntNS = %v, %v; want PID 43", other, err)
	}
	all, _ := probe.Processes(h.FS())
	for _, p := range all {
		if p.PID == 2 {
			t.Fatal("a kernel thread (no exe) was listed")
		}
	}
}

const (
	rootfsMount   = "65 42 254:0 /var/lib/lab/work/chroot/rootfs / rw,relatime - ext4 /dev/vda rw\n"
	oldRootMount  = "66 65 254:0 / /old_root rw,relatime - ext4 /dev/vda rw\n"
	procInChroot  = "67 27 0:39 / /proc rw,relatime - proc proc rw\n"
	otherFSAtRoot = "65 42 0:50 / / rw,relatime - tmpfs lab-x rw\n"
)

func TestPivotedInto(t *testing.T) {
	host, err := procfs.ParseMountInfo(strings.NewReader(checkertest.HostMountInfo))
	if err != nil {
		t.Fatal(err)
	}
	const rootfs = "/var/lib/lab/work/chroot/rootfs"
	p := probe.Process{PID: 7, Comm: "sleep"}
	tests := []struct {
		name, theirs string
		ok           bool
		reason       string
	}{
		{"pivoted and detached", rootfsMount, true, ""},
		{"old root still mounted", rootfsMount + oldRootMount, false, "still has the host's root file system mounted at /old_root"},
		{"plain chroot", procInChroot, false, "has no mount at its /"},
		{"another file system at /", otherFSAtRoot, false, "not " + rootfs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			theirs, err := procfs.ParseMountInfo(strings.NewReader(tt.theirs))
			if err != nil {
				t.Fatal(err)
			}
			got := probe.PivotedInto(theirs, host, p, rootfs)
			if got.OK != tt.ok || !strings.Contains(got.Reason, tt.reason) {
				t.Fatalf("PivotedInto = %+v, want ok=%v reason containing %q", got, tt.ok, tt.reason)
			}
		})
	}
}

func TestOriginOf(t *testing.T) {
	host, _ := procfs.ParseMountInfo(strings.NewReader(checkertest.HostMountInfo))
	tests := []struct {
		dir  string
		want probe.Origin
	}{
		{"/var/lib/lab/work/x", probe.Origin{Major: 254, Minor: 0, Root: "/var/lib/lab/work/x"}},
		{"/tmp/w/rootfs", probe.Origin{Major: 0, Minor: 27, Root: "/w/rootfs"}},
		{"/", probe.Origin{Major: 254, Minor: 0, Root: "/"}},
	}
	for _, tt := range tests {
		got, err := probe.OriginOf(host, tt.dir)
		if err != nil || got != tt.want {
			t.Errorf("OriginOf(%s) = %v, %v; want %v", tt.dir, got, err, tt.want)
		}
	}
}
