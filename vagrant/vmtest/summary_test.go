package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testdata/share is a VM run that went wrong in every way the summary must
// catch: a failing subtest, a binary killed by -test.timeout, a binary and
// a lab that never ran, a failing `lab dev check`, a package whose tests
// do not compile, leftover lab objects, and no out/done.
func TestSummaryCountsEveryKindOfFailure(t *testing.T) {
	s, err := ReadShare("testdata/share")
	if err != nil {
		t.Fatal(err)
	}
	var whats []string
	for _, f := range s.Failures {
		whats = append(whats, f.What)
	}
	want := []string{
		"the VM did not finish",
		"github.com/lab-edu/lab/steps/broken (tests do not compile)",
		"labs TestStepLifecycle/cgroups/memory-limit",
		"labs TestStepLifecycle",
		"kernel/cgroup (exit 2, no failing test)",
		"github.com/lab-edu/lab/steps/netns",
		"lab dev check cgroups (exit 1)",
		"lab dev check netns",
		"lab objects left in the kernel after the run",
	}
	if strings.Join(whats, "\n") != strings.Join(want, "\n") {
		t.Errorf("failures:\n%s\nwant:\n%s", strings.Join(whats, "\n"), strings.Join(want, "\n"))
	}
	// TestStatus, TestStatus/self and `lab dev check chroot`.
	if s.Passed != 3 || s.Skipped != 1 {
		t.Errorf("passed %d, skipped %d; want 3 and 1", s.Passed, s.Skipped)
	}

	var out bytes.Buffer
	s.Print(&out)
	for _, line := range []string{
		"vm: FAIL labs TestStepLifecycle/cgroups/memory-limit\n    " +
			"    lifecycle_test.go:80: verify after solve: expected memory.max 64M, found max\n",
		"    panic: test timed out after 15m0s\n",
		"    expected memory.max 64M, found max\n",
		"/sys/fs/cgroup is cgroup2fs (cgroup v2), controllers: cpuset cpu io memory hugetlb pids rdma misc\n",
		"vm: slowest: 901 s github.com/lab-edu/lab/kernel/cgroup; 40 s github.com/lab-edu/lab/labs;",
	} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("output lacks %q:\n%s", line, out.String())
		}
	}
	if !strings.HasSuffix(out.String(), "\nvm: 3 passed, 9 failed, 1 skipped\n") {
		t.Errorf("closing line wrong:\n%s", out.String())
	}
}

// A clean run on cgroup v2 fails nothing; the same run on a v1 guest fails
// once, for the cgroup mode.
func TestSummaryCleanRunAndCgroupMode(t *testing.T) {
	share := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		p := filepath.Join(share, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("packages", "example.com/p\tp\tp.test\t\n")
	write("labs", "")
	write("out/packages", "example.com/p\t0\t1\n")
	write("out/json/1.json", `{"Action":"pass","Package":"example.com/p","Test":"TestA","Elapsed":0}`+"\n"+
		`{"Action":"pass","Package":"example.com/p","Elapsed":0}`+"\n")
	write("out/done", "seconds=10\n")
	write("out/env", "cgroup_fs=cgroup2fs\n")
	write("out/leftovers", "")

	s, err := ReadShare(share)
	if err != nil {
		t.Fatal(err)
	}
	if s.Passed != 2 || s.Failed() != 0 { // TestA and "nothing left behind"
		t.Errorf("passed %d, failed %d (%v); want 2 and 0", s.Passed, s.Failed(), s.Failures)
	}
	if code := run([]string{"summary", share}, io.Discard, io.Discard); code != 0 {
		t.Errorf("vmtest summary exit %d, want 0", code)
	}

	write("out/env", "cgroup_fs=tmpfs\n")
	s, err = ReadShare(share)
	if err != nil {
		t.Fatal(err)
	}
	if s.Failed() != 1 || s.Failures[0].What != "cgroup mode" {
		t.Errorf("failures %v, want only the cgroup mode", s.Failures)
	}
	if code := run([]string{"summary", share}, io.Discard, io.Discard); code != 1 {
		t.Errorf("vmtest summary exit %d on a v1 guest, want 1", code)
	}
}

func TestUsage(t *testing.T) {
	if code := run([]string{"bogus"}, io.Discard, io.Discard); code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
}
