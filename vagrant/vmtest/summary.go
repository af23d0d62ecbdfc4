package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Event is one line of `go tool test2json` output (cmd/test2json documents
// the fields). Test is empty for events about the whole package.
type Event struct {
	Action  string // run, pause, cont, pass, fail, skip, output, ...
	Package string
	Test    string
	Elapsed float64 // seconds, on pass/fail/skip
	Output  string
}

// Failure is one thing that went wrong, with the output that explains it.
type Failure struct {
	What   string // "kernel/procfs TestStatus", "lab dev check chroot", ...
	Output []string
}

// Summary is what the VM run produced.
type Summary struct {
	Env      map[string]string // out/env: kernel, cgroup_fs, controllers...
	Passed   int
	Skipped  int
	Failures []Failure
	Seconds  map[string]string // per test binary or lab: wall time in the VM
}

// Failed counts the failures.
func (s *Summary) Failed() int { return len(s.Failures) }

// ReadShare reads what guest.sh wrote into SHARE/out and compares it with
// what the host asked for (SHARE/packages, SHARE/labs): a binary or lab
// that never reported is a failure too, as is a guest that is not cgroup v2.
func ReadShare(share string) (*Summary, error) {
	out := filepath.Join(share, "out")
	s := &Summary{Env: map[string]string{}, Seconds: map[string]string{}}
	if err := readKeyValues(filepath.Join(out, "env"), s.Env); err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(out, "done")); err != nil {
		s.fail("the VM did not finish", "no out/done: see "+filepath.Join(share, "console.log"))
	}
	if fs := s.Env["cgroup_fs"]; fs != "" && fs != "cgroup2fs" {
		s.fail("cgroup mode", "/sys/fs/cgroup is "+fs+", the lab VM must be cgroup v2 (cgroup2fs)")
	}

	broken, err := readTable2(filepath.Join(share, "build-failures"))
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	for _, b := range broken {
		s.fail(b[0]+" (tests do not compile)", b[1])
	}

	wanted, err := readColumn(filepath.Join(share, "packages"))
	if err != nil {
		return nil, err
	}
	exits, err := readTable(filepath.Join(out, "packages"))
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	for i, pkg := range wanted {
		r, ran := exits[pkg]
		if !ran {
			s.fail(pkg, "not run")
			continue
		}
		s.Seconds[pkg] = r[1]
		f, err := os.Open(filepath.Join(out, "json", strconv.Itoa(i+1)+".json"))
		if err != nil {
			s.fail(pkg, "no test2json output: "+err.Error())
			continue
		}
		s.addPackage(pkg, r[0], f)
		f.Close()
	}

	labIDs, err := readColumn(filepath.Join(share, "labs"))
	if err != nil {
		return nil, err
	}
	checks, err := readTable(filepath.Join(out, "devcheck.tsv"))
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	for _, lab := range labIDs {
		what := "lab dev check " + lab
		r, ran := checks[lab]
		switch {
		case !ran:
			s.fail(what, "not run")
		case r[0] == "0":
			s.Passed++
			s.Seconds[what] = r[1]
		default:
			b, _ := os.ReadFile(filepath.Join(out, "devcheck", lab+".out"))
			s.fail(what+" (exit "+r[0]+")", strings.Split(strings.TrimSpace(string(b)), "\n")...)
		}
	}
	if b, err := os.ReadFile(filepath.Join(out, "leftovers")); err == nil {
		if left := strings.TrimSpace(string(b)); left != "" {
			s.fail("lab objects left in the kernel after the run", strings.Split(left, "\n")...)
		} else {
			s.Passed++ // "nothing left behind" is a check of its own
		}
	}
	return s, nil
}

// addPackage counts the test cases (tests and subtests) of one binary's
// test2json stream. A binary that exited non-zero without any failing test
// (a panic in TestMain, a -test.timeout, a crash) is a failure of its own.
func (s *Summary) addPackage(pkg, exit string, r io.Reader) {
	output := map[string][]string{} // test name -> its output lines
	failedTests := 0
	var pkgOutput []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e Event
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			pkgOutput = append(pkgOutput, sc.Text()) // not JSON: the binary's own crash text
			continue
		}
		switch {
		case e.Action == "output" && e.Test != "":
			output[e.Test] = append(output[e.Test], strings.TrimRight(e.Output, "\n"))
		case e.Action == "output":
			pkgOutput = append(pkgOutput, strings.TrimRight(e.Output, "\n"))
		case e.Test == "":
		case e.Action == "pass":
			s.Passed++
		case e.Action == "skip":
			s.Skipped++
		case e.Action == "fail":
			failedTests++
			s.fail(short(pkg)+" "+e.Test, output[e.Test]...)
		}
	}
	if exit != "0" && failedTests == 0 {
		s.fail(short(pkg)+" (exit "+exit+", no failing test)", pkgOutput...)
	}
}

func (s *Summary) fail(what string, output ...string) {
	s.Failures = append(s.Failures, Failure{What: what, Output: output})
}

// Print writes the failures with the tail of their output, the guest's
// environment, and the closing `vm: N passed, N failed` line.
func (s *Summary) Print(w io.Writer) {
	const tail = 40
	for _, f := range s.Failures {
		fmt.Fprintf(w, "vm: FAIL %s\n", f.What)
		out := f.Output
		if len(out) > tail {
			fmt.Fprintf(w, "    ... (%d lines before)\n", len(out)-tail)
			out = out[len(out)-tail:]
		}
		for _, line := range out {
			fmt.Fprintf(w, "    %s\n", line)
		}
	}
	var slow []string
	for what, secs := range s.Seconds {
		slow = append(slow, secs+" s "+what)
	}
	sort.Slice(slow, func(i, j int) bool { return seconds(slow[i]) > seconds(slow[j]) })
	if len(slow) > 5 {
		slow = slow[:5]
	}
	if len(slow) > 0 {
		fmt.Fprintf(w, "vm: slowest: %s\n", strings.Join(slow, "; "))
	}
	fmt.Fprintf(w, "vm: guest kernel %s, /sys/fs/cgroup is %s (%s), controllers: %s\n",
		s.Env["kernel"], s.Env["cgroup_fs"], cgroupMode(s.Env["cgroup_fs"]), s.Env["controllers"])
	fmt.Fprintf(w, "vm: %d passed, %d failed, %d skipped\n", s.Passed, s.Failed(), s.Skipped)
}

func cgroupMode(fs string) string {
	switch fs {
	case "cgroup2fs":
		return "cgroup v2"
	case "tmpfs":
		return "cgroup v1 or hybrid"
	default:
		return "unknown"
	}
}

func seconds(s string) int {
	n, _ := strconv.Atoi(strings.Fields(s)[0])
	return n
}

func short(pkg string) string { return strings.TrimPrefix(pkg, "github.com/lab-edu/lab/") }

// readKeyValues reads key=value lines.
func readKeyValues(path string, into map[string]string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			into[k] = v
		}
	}
	return nil
}

// readColumn reads the first tab-separated column of each non-empty line.
func readColumn(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var col []string
	for _, line := range strings.Split(string(b), "\n") {
		if f, _, _ := strings.Cut(line, "\t"); f != "" {
			col = append(col, f)
		}
	}
	return col, nil
}

// readTable2 reads tab-separated lines NAME, TEXT in order.
func readTable2(path string) ([][2]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var t [][2]string
	for _, line := range strings.Split(string(b), "\n") {
		if name, text, ok := strings.Cut(line, "\t"); ok {
			t = append(t, [2]string{name, text})
		}
	}
	return t, nil
}

// readTable reads tab-separated lines NAME, EXIT, SECONDS into NAME -> [EXIT, SECONDS].
func readTable(path string) (map[string][2]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t := map[string][2]string{}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Split(line, "\t")
		if len(f) >= 3 {
			t[f[0]] = [2]string{f[1], f[2]}
		}
	}
	return t, nil
}
