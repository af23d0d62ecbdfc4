package stepstest

import (
	"os"
	"path/filepath"
	"testing"
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
