package nslab

import (
	"strings"
	"testing"

	"github.com/lab-edu/lab/kernel/ns"
	"github.com/lab-edu/lab/kernel/procfs"
)

func TestParseInode(t *testing.T) {
	for in, want := range map[string]uint64{"4026532201": 4026532201, " uts:[4026532201] ": 4026532201, "[12]": 12} {
		if got, err := parseInode(in); err != nil || got != want {
			t.Errorf("parseInode(%q) = %d, %v, want %d", in, got, err, want)
		}
	}
	if _, err := parseInode("uts"); err == nil {
		t.Error(`parseInode("uts") = nil error, want one`)
	}
}

func TestUnder(t *testing.T) {
	if !under("/var/lib/lab/work/pid", "/var/lib/lab/work/pid") || !under("/var/lib/lab/work/pid/x", "/var/lib/lab/work/pid/") {
		t.Error("under should accept the dir and below")
	}
	if under("/var/lib/lab/work/pidx", "/var/lib/lab/work/pid") {
		t.Error("under must not match a sibling with the same prefix")
	}
}

func TestJudgeMap(t *testing.T) {
	id := ns.ID{Kind: ns.User, Inode: 7}
	p := proc{PID: 42, Comm: "bash"}
	m := func(in, out, n uint64) []procfs.IDMap { return []procfs.IDMap{{Inside: in, Outside: out, Count: n}} }
	tests := []struct {
		name string
		u    userNS
		want string // substring of the reason; "" = accepted
	}{
		{"no uid_map", userNS{ID: id, Proc: p, Uid: 65534}, "has no uid_map"},
		{"no gid_map", userNS{ID: id, Proc: p, UID: m(0, 1000, 1), Uid: 1000}, "no gid_map"},
		{"root is root", userNS{ID: id, Proc: p, UID: m(0, 0, 1), GID: m(0, 0, 1), Uid: 0}, "maps uid 0 inside to uid 0 outside"},
		{"no root inside", userNS{ID: id, Proc: p, UID: m(1000, 1000, 1), GID: m(0, 1000, 1), Uid: 1000}, "maps no uid to 0 inside"},
		{"not running as root inside", userNS{ID: id, Proc: p, UID: append(m(0, 1000, 1), m(1, 100000, 10)...), GID: m(0, 1000, 1), Uid: 100003}, "not uid 0 in its namespace"},
		{"right", userNS{ID: id, Proc: p, UID: m(0, 65534, 1), GID: m(0, 65534, 1), Uid: 65534}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reason, hint := judgeMap(tt.u)
			if tt.want == "" {
				if reason != "" {
					t.Fatalf("judgeMap = %q, want accepted", reason)
				}
				return
			}
			if !strings.Contains(reason, tt.want) || hint == "" {
				t.Fatalf("judgeMap = %q (hint %q), want a reason with %q and a hint", reason, hint, tt.want)
			}
		})
	}
}
