package capslab

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/lab-edu/lab/checker"
)

// fakeProcHost is a /proc with the given shells, for the checks' reasoning
// without root: every process shares the checker's user namespace.
type fakeProcHost struct{ fsys fstest.MapFS }

func (h fakeProcHost) FS() fs.FS                    { return h.fsys }
func (h fakeProcHost) Workspace() string            { return "/nowhere" }
func (h fakeProcHost) Answer(string) (string, bool) { return "", false }

type fakeProc struct {
	pid                     int
	comm                    string
	uid                     int
	eff, prm, inh, bnd, amb string
	nnp                     bool
}

func newFakeProcHost(procs ...fakeProc) fakeProcHost {
	userNS := "user:[4026531837]"
	m := fstest.MapFS{
		"proc/sys/kernel/cap_last_cap":              {Data: []byte("40\n")},
		fmt.Sprintf("proc/%d/ns/user", os.Getpid()): {Data: []byte(userNS), Mode: fs.ModeSymlink},
	}
	for _, p := range procs {
		dir := fmt.Sprintf("proc/%d/", p.pid)
		nnp := 0
		if p.nnp {
			nnp = 1
		}
		m[dir+"comm"] = &fstest.MapFile{Data: []byte(p.comm + "\n")}
		m[dir+"ns/user"] = &fstest.MapFile{Data: []byte(userNS), Mode: fs.ModeSymlink}
		m[dir+"status"] = &fstest.MapFile{Data: fmt.Appendf(nil,
			"Name:\t%s\nUid:\t%d\t%d\t%d\t%d\nGid:\t%d\t%d\t%d\t%d\nCapInh:\t%s\nCapPrm:\t%s\nCapEff:\t%s\nCapBnd:\t%s\nCapAmb:\t%s\nNoNewPrivs:\t%d\n",
			p.comm, p.uid, p.uid, p.uid, p.uid, p.uid, p.uid, p.uid, p.uid, p.inh, p.prm, p.eff, p.bnd, p.amb, nnp)}
	}
	return fakeProcHost{m}
}

const (
	full  = "000001ffffffffff"
	noRaw = "000001ffffffdfff"
	none  = "0000000000000000"
	raw   = "0000000000002000"
)

func TestNoRawReasons(t *testing.T) {
	userShell := fakeProc{pid: 100, comm: "bash", uid: 1000, eff: none, prm: none, inh: none, bnd: full, amb: none}
	rootShell := fakeProc{pid: 101, comm: "bash", eff: full, prm: full, inh: none, bnd: full, amb: none}
	daemon := fakeProc{pid: 102, comm: "systemd-timesyn", uid: 100, eff: none, prm: none, inh: none, bnd: none, amb: none}
	for _, tt := range []struct {
		name  string
		procs []fakeProc
		want  string
	}{
		{"nothing dropped", []fakeProc{userShell, rootShell, daemon}, "2 shells, all with cap_net_raw in their bounding set"},
		{"effective only", []fakeProc{userShell, {pid: 7, comm: "bash", eff: noRaw, prm: full, inh: none, bnd: full, amb: none}},
			"bash (pid 7) dropped cap_net_raw from its effective set only: it is still in [permitted bounding]"},
		{"non-root shell with it in inheritable", []fakeProc{{pid: 8, comm: "sh", uid: 1000, eff: none, prm: none, inh: raw, bnd: noRaw, amb: none}},
			"sh (pid 8) has cap_net_raw out of its bounding set but still in [inheritable]"},
		{"unprivileged shell", []fakeProc{{pid: 11, comm: "bash", uid: 1000, eff: none, prm: none, inh: none, bnd: noRaw, amb: none}},
			"bash (pid 11) lacks cap_net_raw but runs as uid 1000"},
		{"no shell at all", []fakeProc{daemon}, "no shell process in this user namespace"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := checkNoRaw(context.Background(), newFakeProcHost(tt.procs...))
			if r.Status != checker.Fail || !strings.Contains(r.Reason, tt.want) || r.Hint == "" {
				t.Errorf("got %s %q (hint %q), want fail with %q", r.Status, r.Reason, r.Hint, tt.want)
			}
		})
	}
}

func TestNoCapsReasons(t *testing.T) {
	for _, tt := range []struct {
		name  string
		procs []fakeProc
		want  string
	}{
		{"no root shell", []fakeProc{{pid: 5, comm: "bash", uid: 1000, eff: none, prm: none, inh: none, bnd: full, amb: none}}, "no shell runs as root"},
		{"closest root shell named", []fakeProc{
			{pid: 5, comm: "bash", eff: full, prm: full, inh: none, bnd: full, amb: none},
			{pid: 6, comm: "zsh", eff: noRaw, prm: noRaw, inh: none, bnd: noRaw, amb: none},
		}, "zsh (pid 6), still has 40 capabilities in its bounding set (cap_chown, cap_dac_override, cap_dac_read_search, cap_fowner, ... and 36 more)"},
		{"empty bounding but still permitted", []fakeProc{{pid: 9, comm: "bash", eff: raw, prm: raw, inh: none, bnd: none, amb: none}},
			"bash (pid 9) has an empty bounding set but still holds cap_net_raw"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := checkNoCaps(context.Background(), newFakeProcHost(tt.procs...))
			if r.Status != checker.Fail || !strings.Contains(r.Reason+r.Found, tt.want) {
				t.Errorf("got %s %q %q, want fail with %q", r.Status, r.Reason, r.Found, tt.want)
			}
		})
	}
}

func TestNNPReasons(t *testing.T) {
	for _, tt := range []struct {
		name  string
		procs []fakeProc
		want  string
	}{
		{"no flag", []fakeProc{{pid: 5, comm: "bash", uid: 65534, eff: none, prm: none, inh: none, bnd: full, amb: none}}, "no shell has no_new_privs"},
		{"root with the flag", []fakeProc{{pid: 5, comm: "bash", eff: full, prm: full, inh: none, bnd: full, amb: none, nnp: true}}, "runs as root"},
		{"no privileged binary", []fakeProc{{pid: 5, comm: "bash", uid: 65534, eff: none, prm: none, inh: none, bnd: full, amb: none, nnp: true}}, "no cap_net_bind_service+ep"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := checkNNP(context.Background(), newFakeProcHost(tt.procs...))
			if r.Status != checker.Fail || !strings.Contains(r.Reason+r.Found, tt.want) {
				t.Errorf("got %s %q %q, want fail with %q", r.Status, r.Reason, r.Found, tt.want)
			}
		})
	}
}
