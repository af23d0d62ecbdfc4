package stepstest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lab-edu/lab/kernel/kerneltest"
)

// Processes of other systemd services are left out of the snapshot; the
// caller's own unit, user sessions, lab cgroups and hosts without systemd
// are not.
func TestOtherService(t *testing.T) {
	proc := func(cgroup string) string {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "cgroup"), []byte(cgroup), 0o644); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	own := "/system.slice/lab-vmtest.service"
	for _, tt := range []struct {
		cgroup string
		own    string
		skip   bool
	}{
		{"0::/system.slice/systemd-tmpfiles-clean.service\n", own, true},
		{"0::/system.slice/systemd-resolved.service\n", "/user.slice/user-1000.slice/session-2.scope", true},
		{"0::/system.slice/lab-vmtest.service\n", own, false},
		{"0::/system.slice/lab-vmtest.service/sub\n", own, false},
		{"0::/lab-ctr-0123456789ab\n", own, false},
		{"0::/user.slice/user-1000.slice/session-2.scope\n", own, false},
		{"12:pids:/\n1:name=systemd:/\n0::/\n", "/", false},
		{"12:pids:/\n1:name=systemd:/\n", "", false},
	} {
		if got := otherService(proc(tt.cgroup), tt.own); got != tt.skip {
			t.Errorf("otherService(%q, own %q) = %v, want %v", tt.cgroup, tt.own, got, tt.skip)
		}
	}
}

// A diff names the process that held a namespace, even once it is gone.
func TestDiffNamesTheHolder(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root, kerneltest.Tool("unshare"))
	cmd := exec.Command("unshare", "--uts", "sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	var ns string
	for deadline := time.Now().Add(5 * time.Second); ns == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", cmd.Process.Pid))
		if strings.TrimSpace(string(comm)) == "sleep" { // unshare has exec'd
			ns, _ = os.Readlink(fmt.Sprintf("/proc/%d/ns/uts", cmd.Process.Pid))
		}
	}
	before := Take()
	if !slices.Contains(before["process"], ns) {
		t.Fatalf("the snapshot's processes %q lack sleep's %s", before["process"], ns)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	diff := Diff(before, Take())
	want := fmt.Sprintf("- process %s (held by PID %d sleep (sleep 60)", ns, cmd.Process.Pid)
	if !strings.Contains(diff, want) {
		t.Fatalf("diff:\n%s\nwant a line with %q", diff, want)
	}
}

// Only what a test leaves counts: a process that was there before and is
// gone is split off; a gone link or mount, or a process left, is not.
func TestDeparted(t *testing.T) {
	diff := "- link lab0\n- process mnt:[4026532208] (held by PID 7 sleep (sleep 30), cgroup /)\n+ process net:[4026532300]\n- process root /tmp/x\n"
	rest, departed := Departed(diff)
	if want := "- link lab0\n+ process net:[4026532300]\n"; rest != want {
		t.Errorf("rest = %q, want %q", rest, want)
	}
	if want := "- process mnt:[4026532208] (held by PID 7 sleep (sleep 30), cgroup /)\n- process root /tmp/x\n"; departed != want {
		t.Errorf("departed = %q, want %q", departed, want)
	}
	if rest, departed := Departed(""); rest != "" || departed != "" {
		t.Errorf("Departed(\"\") = %q, %q", rest, departed)
	}
}
