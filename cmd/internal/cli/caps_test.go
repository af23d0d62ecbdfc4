package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/lab-edu/lab/kernel/kerneltest"
	"github.com/lab-edu/lab/kernel/procfs"
)

func fakeProc() fstest.MapFS {
	return fstest.MapFS{
		"proc/sys/kernel/cap_last_cap": {Data: []byte("40\n")},
		"proc/42/status": {Data: []byte("Name:\tbash\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n" +
			"CapInh:\t0000000000000000\nCapPrm:\t000001ffffffdfff\nCapEff:\t000001ffffffdfff\n" +
			"CapBnd:\t000001ffffffdfff\nCapAmb:\t0000000000000000\nNoNewPrivs:\t0\n")},
	}
}

func TestCapsShowTable(t *testing.T) {
	io, _, out, _ := TestIO()
	if err := runCapsShow(&capsShowOptions{IO: io, FS: fakeProc(), PID: 42}); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"process 42 (bash), uid 0, no_new_privs false, capabilities 0-40",
		"CAPABILITY", "EFFECTIVE", "PERMITTED", "INHERITABLE", "BOUNDING", "AMBIENT",
		"cap_checkpoint_restore (40)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if !regexp.MustCompile(`cap_net_raw \(13\)\s+-\s+-\s+-\s+-\s+-`).MatchString(got) {
		t.Errorf("cap_net_raw should be in no set:\n%s", got)
	}
	if !regexp.MustCompile(`cap_chown \(0\)\s+yes\s+yes\s+-\s+yes\s+-`).MatchString(got) {
		t.Errorf("cap_chown should be effective, permitted and bounding:\n%s", got)
	}
}

func TestCapsShowJSON(t *testing.T) {
	io, _, out, _ := TestIO()
	if err := runCapsShow(&capsShowOptions{IO: io, FS: fakeProc(), PID: 42, JSON: true}); err != nil {
		t.Fatal(err)
	}
	var got capsShow
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.PID != 42 || got.LastCap != 40 || len(got.Caps) != 41 || len(got.Sets) != 5 {
		t.Fatalf("got %+v", got)
	}
	if s := got.Sets[3]; s.Name != "bounding" || s.Mask != "000001ffffffdfff" || len(s.Names) != 40 {
		t.Errorf("bounding = %+v", s)
	}
	if s := got.Sets[2]; s.Name != "inheritable" || len(s.Names) != 0 || s.Names == nil {
		t.Errorf("inheritable = %+v, want an empty list", s)
	}
}

func TestCapsBadInput(t *testing.T) {
	for _, args := range [][]string{
		{"show", "abc"}, {"show", "0"}, {"show", "999999999"}, {"decode", "xyz"}, {"decode", "0x"},
		{"decode", "1ffffffffffffffff"}, {"decode"},
	} {
		io, _, out, _ := TestIO()
		cmd := newCmdCaps(&Factory{IO: io}, nil, nil)
		cmd.SetArgs(args)
		cmd.SetOut(out)
		cmd.SetErr(out)
		err := cmd.Execute()
		if err == nil {
			t.Errorf("lab caps %v succeeded", args)
			continue
		}
		code := exitCode(err)
		if code == ExitInternal && isUsage(err) {
			code = ExitUsage
		}
		if code != ExitUsage {
			t.Errorf("lab caps %v: exit %d (%v), want %d", args, code, err, ExitUsage)
		}
	}
}

// capshNames normalises capsh's list: capsh names a capability it does
// not know by its bare number ("41"), lab by cap_41.
func capshNames(list string) []string {
	if list == "" {
		return nil
	}
	names := strings.Split(list, ",")
	for i, n := range names {
		if _, err := strconv.Atoi(n); err == nil {
			names[i] = "cap_" + n
		}
	}
	return names
}

func TestCapsDecodeAgreesWithCapsh(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Tool("capsh"))
	for _, mask := range []string{
		"0", "3000", "0000000000002000", "000001fffeffffff", "000001ffffffffff",
		"000001c000000000", // perfmon, bpf, checkpoint_restore: the newest
		"0000060000000000", // 41, 42: beyond every table
		"ffffffffffffffff",
	} {
		io, _, out, _ := TestIO()
		if err := runCapsDecode(&capsDecodeOptions{IO: io, FS: os.DirFS("/"), Mask: mask}); err != nil {
			t.Fatal(err)
		}
		b, err := exec.Command("capsh", "--decode="+mask).Output()
		if err != nil {
			t.Fatal(err)
		}
		wantHex, wantList, _ := strings.Cut(strings.TrimSpace(string(b)), "=")
		gotHex, gotList, _ := strings.Cut(strings.TrimSpace(out.String()), "=")
		if gotHex != wantHex || strings.Join(capshNames(wantList), ",") != gotList {
			t.Errorf("decode %s:\n lab   %s=%s\n capsh %s=%s", mask, gotHex, gotList, wantHex, wantList)
		}
	}
}

// TestCapsShowAgreesWithKernel compares lab caps show with
// /proc/PID/status and capsh for several processes: this one, PID 1, and
// shells made as the lab text makes them (capsh --drop, setpriv).
func TestCapsShowAgreesWithKernel(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root, kerneltest.Tool("capsh"), kerneltest.Tool("setpriv"))
	dir := t.TempDir()
	_ = os.Chmod(dir, 0o755)
	printed := dir + "/capsh-print"
	pids := []int{os.Getpid(), 1}
	// Each ends as "sleep", not a shell, so that the caps lab's checks
	// running in another test binary never mistake them for the student's.
	for _, argv := range [][]string{
		// The shell runs capsh --print itself, a child with its bounding set.
		{"capsh", "--drop=cap_net_raw", "--", "-c", "capsh --print > " + printed + "; exec sleep 30"},
		{"capsh", "--drop=all", "--", "-c", "exec sleep 30"},
		{"capsh", "--inh=cap_net_raw", "--drop=cap_net_raw,cap_sys_admin", "--", "-c", "exec sleep 30"},
		{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--no-new-privs", "sleep", "30"},
	} {
		cmd := exec.Command(argv[0], argv[1:]...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		waitComm(t, cmd.Process.Pid, "sleep")
		pids = append(pids, cmd.Process.Pid)
	}
	fsys := os.DirFS("/")
	for _, pid := range pids {
		io, _, out, _ := TestIO()
		if err := runCapsShow(&capsShowOptions{IO: io, FS: fsys, PID: pid, JSON: true}); err != nil {
			t.Fatal(err)
		}
		var got capsShow
		if err := json.Unmarshal(out.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		st, err := procfs.ReadStatus(fsys, pid)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range got.Sets {
			field := map[string]string{"effective": "CapEff", "permitted": "CapPrm", "inheritable": "CapInh", "bounding": "CapBnd", "ambient": "CapAmb"}[s.Name]
			if s.Mask != st.Fields[field] {
				t.Errorf("pid %d %s: lab shows %s, /proc has %s", pid, s.Name, s.Mask, st.Fields[field])
			}
			b, err := exec.Command("capsh", "--decode="+st.Fields[field]).Output()
			if err != nil {
				t.Fatal(err)
			}
			_, list, _ := strings.Cut(strings.TrimSpace(string(b)), "=")
			if want := capshNames(list); strings.Join(want, ",") != strings.Join(s.Names, ",") {
				t.Errorf("pid %d %s: lab names %v, capsh --decode %v", pid, s.Name, s.Names, want)
			}
			// And the table rows agree with the names.
			n := 0
			for _, r := range got.Caps {
				if map[string]bool{"effective": r.Effective, "permitted": r.Permitted, "inheritable": r.Inheritable, "bounding": r.Bounding, "ambient": r.Ambient}[s.Name] {
					n++
				}
			}
			if n != len(s.Names) {
				t.Errorf("pid %d %s: %d rows marked, %d names", pid, s.Name, n, len(s.Names))
			}
		}
		if got.NoNewPrivs != st.NoNewPrivs || got.UID[1] != st.Uid[1] {
			t.Errorf("pid %d: nnp %t uid %d, /proc has %t %d", pid, got.NoNewPrivs, got.UID[1], st.NoNewPrivs, st.Uid[1])
		}
	}
	// capsh --print, run inside the first shell, names its bounding set.
	b, err := os.ReadFile(printed)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^Bounding set =(.*)$`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no bounding set in capsh --print:\n%s", b)
	}
	io, _, out, _ := TestIO()
	if err := runCapsShow(&capsShowOptions{IO: io, FS: fsys, PID: pids[2], JSON: true}); err != nil {
		t.Fatal(err)
	}
	var got capsShow
	_ = json.Unmarshal(out.Bytes(), &got)
	if want := strings.Join(capshNames(string(m[1])), ","); strings.Join(got.Sets[3].Names, ",") != want {
		t.Errorf("bounding set: lab %v, capsh --print %s", got.Sets[3].Names, want)
	}
}

func waitComm(t *testing.T, pid int, comm string) {
	t.Helper()
	for range 300 {
		if c, _ := procfs.Comm(os.DirFS("/"), pid); c == comm {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("pid %d never became %s", pid, comm)
}
