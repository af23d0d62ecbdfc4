package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/lab-edu/lab/kernel/kerneltest"
)

func nsLink(target string) *fstest.MapFile {
	return &fstest.MapFile{Mode: fs.ModeSymlink | 0o777, Data: []byte(target)}
}

// nsFakeProc: PID 1 and 2 in the host's UTS namespace, PID 40 in its own.
func nsFakeProc() fstest.MapFS {
	m := fstest.MapFS{"etc/passwd": {Data: []byte("root:x:0:0::/root:/bin/sh\n")}}
	for pid, uts := range map[string]string{"1": "4026531838", "2": "4026531838", "40": "4026532201"} {
		m["proc/"+pid+"/ns/uts"] = nsLink("uts:[" + uts + "]")
		m["proc/"+pid+"/ns/ipc"] = nsLink("ipc:[4026531839]")
		m["proc/"+pid+"/comm"] = &fstest.MapFile{Data: []byte("p" + pid + "\n")}
		m["proc/"+pid+"/status"] = &fstest.MapFile{Data: []byte("Uid:\t0\t0\t0\t0\n")}
	}
	return m
}

func TestNsArgs(t *testing.T) {
	f := &Factory{}
	f.IO, _, _, _ = TestIO()
	var ls *nsLsOptions
	var diff *nsDiffOptions
	cmd := newCmdNs(f, func(o *nsLsOptions) error { ls = o; return nil }, func(o *nsDiffOptions) error { diff = o; return nil })
	cmd.SetArgs([]string{"ls", "--pid", "40", "-t", "uts,ipc", "--json"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if ls == nil || ls.PID != 40 || !ls.JSON || strings.Join(ls.Types, ",") != "uts,ipc" {
		t.Fatalf("ls options = %+v", ls)
	}
	cmd.SetArgs([]string{"diff", "1", "40"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if diff == nil || diff.A != 1 || diff.B != 40 {
		t.Fatalf("diff options = %+v", diff)
	}
	for _, bad := range [][]string{{"diff", "1", "x"}, {"diff", "0", "1"}, {"ls", "--pid", "-3"}, {"ls", "-t", "foo"}} {
		cmd.SetArgs(bad)
		err := cmd.Execute()
		var ee *ExitError
		if !errors.As(err, &ee) || ee.Code != ExitUsage {
			t.Errorf("%q: err = %v, want a usage error (exit 2)", bad, err)
		}
	}
}

func TestNsLsTable(t *testing.T) {
	io, _, out, _ := TestIO()
	if err := runNsLs(&nsLsOptions{IO: io, FS: nsFakeProc(), Types: []string{"uts"}}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "NS") ||
		!strings.Contains(lines[1], "4026531838  uts   2") || !strings.Contains(lines[2], "4026532201  uts   1       40") {
		t.Fatalf("table:\n%s", out)
	}
}

func TestNsLsPID(t *testing.T) {
	io, _, out, _ := TestIO()
	if err := runNsLs(&nsLsOptions{IO: io, FS: nsFakeProc(), PID: 40, JSON: true}); err != nil {
		t.Fatal(err)
	}
	var got nsLsJSON
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	host := map[string]bool{}
	for _, r := range got.Namespaces {
		host[r.Type] = r.Host != nil && *r.Host
	}
	if len(got.Namespaces) != 2 || host["uts"] || !host["ipc"] {
		t.Fatalf("--pid 40 = %+v, want uts own and ipc host", got.Namespaces)
	}
	io, _, _, _ = TestIO()
	err := runNsLs(&nsLsOptions{IO: io, FS: nsFakeProc(), PID: 99})
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Code != ExitUsage {
		t.Fatalf("--pid 99 (no such process): err = %v, want exit 2", err)
	}
}

func TestNsDiff(t *testing.T) {
	io, _, out, _ := TestIO()
	if err := runNsDiff(&nsDiffOptions{IO: io, FS: nsFakeProc(), A: 1, B: 40}); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{`uts\s+4026531838\s+4026532201\s+different`, `ipc\s+4026531839\s+4026531839\s+same`} {
		if !regexp.MustCompile(want).MatchString(got) {
			t.Errorf("diff lacks %q:\n%s", want, got)
		}
	}
}

// TestNsLsAgreesWithLsns compares `lab ns ls --json` with `lsns -J` on
// this machine: the same namespaces (type and inode) with the same
// process counts. Processes start and exit all the time (other tests run
// beside this one), so it retries a few times before it reports a
// difference. lsns counts itself, in this process's namespaces.
func TestNsLsAgreesWithLsns(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root, kerneltest.Tool("lsns"))
	self := map[string]uint64{}
	for _, k := range []string{"mnt", "net", "time", "cgroup", "pid", "user", "uts", "ipc"} {
		if l, err := os.Readlink("/proc/self/ns/" + k); err == nil {
			var ino uint64
			fmt.Sscanf(l[strings.Index(l, "[")+1:], "%d", &ino)
			self[k] = ino
		}
	}
	var diff string
	for attempt := 0; attempt < 10; attempt++ {
		diff = ""
		io, _, out, _ := TestIO()
		if err := runNsLs(&nsLsOptions{IO: io, FS: os.DirFS("/"), JSON: true}); err != nil {
			t.Fatal(err)
		}
		b, err := exec.Command("lsns", "-J").Output()
		if err != nil {
			t.Fatal(err)
		}
		var ours nsLsJSON
		var theirs struct{ Namespaces []lsnsRow }
		if err := json.Unmarshal(out.Bytes(), &ours); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &theirs); err != nil {
			t.Fatal(err)
		}
		want, wantPID := map[string]int{}, map[string]int{}
		var walk func([]lsnsRow)
		walk = func(rows []lsnsRow) { // lsns nests a namespace under its creator's
			for _, r := range rows {
				if r.NProcs > 0 {
					want[fmt.Sprintf("%s:[%d]", r.Type, r.NS)] = r.NProcs
					wantPID[fmt.Sprintf("%s:[%d]", r.Type, r.NS)] = r.PID
				}
				walk(r.Children)
			}
		}
		walk(theirs.Namespaces)
		got := map[string]int{}
		for _, r := range ours.Namespaces {
			if p, ok := wantPID[fmt.Sprintf("%s:[%d]", r.Type, r.NS)]; ok && p != r.PID {
				diff += fmt.Sprintf("%s:[%d]: lowest PID %d for lsns, %d for lab ns ls\n", r.Type, r.NS, p, r.PID)
			}
			n := r.NProcs
			if self[r.Type] == r.NS {
				n++ // lsns itself
			}
			got[fmt.Sprintf("%s:[%d]", r.Type, r.NS)] = n
		}
		for k, v := range want {
			if got[k] != v {
				diff += fmt.Sprintf("%s: lsns %d processes, lab ns ls %d\n", k, v, got[k])
			}
		}
		for k, v := range got {
			if _, ok := want[k]; !ok {
				diff += fmt.Sprintf("%s: only lab ns ls lists it (%d processes)\n", k, v)
			}
		}
		if diff == "" {
			t.Logf("%d namespaces agree", len(want))
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("lab ns ls and lsns -J disagree:\n%s", diff)
}

// lsnsRow is a line of lsns -J, which nests rows in "children".
type lsnsRow struct {
	NS       uint64    `json:"ns"`
	Type     string    `json:"type"`
	NProcs   int       `json:"nprocs"`
	PID      int       `json:"pid"`
	Children []lsnsRow `json:"children"`
}
