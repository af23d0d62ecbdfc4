package checker_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/lab-edu/lab/checker"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func passCheck(name string) checker.Check {
	return func(context.Context, checker.Host) checker.Result { return checker.Passed(name, "saw "+name) }
}

func failCheck(name string) checker.Check {
	return func(context.Context, checker.Host) checker.Result {
		return checker.Mismatch(name, "a shell at rootfs/bin/sh", "no such file", "copy busybox to rootfs/bin/ and run busybox --install")
	}
}

// sampleReports is a half-done course: a full pass, a partial credit, a
// fail with expected/found, a skip and a checker error, across two labs.
func sampleReports() []checker.Report {
	ctx := context.Background()
	partial := checker.Weighted("jail",
		checker.Part{Weight: 1, Check: passCheck("new mount namespace")},
		checker.Part{Weight: 1, Check: passCheck("root switched with pivot_root")},
		checker.Part{Weight: 2, Check: failCheck("old root unmounted")},
	)(ctx, nil)
	a := checker.Report{Lab: "chroot", Title: "chroot & pivot_root"}
	a.Add(checker.NewStepReport("chroot/rootfs", "Build a rootfs", 10, passCheck("rootfs")(ctx, nil)))
	a.Add(checker.NewStepReport("chroot/jail", "A jail that holds", 20, partial))
	a.Add(checker.NewStepReport("chroot/shell", "A shell inside", 10, failCheck("shell")(ctx, nil)))
	b := checker.Report{Lab: "cgroups", Title: "Control groups", Evidence: []string{"script exited 0", "output:\n+ echo hi\nhi"}}
	b.Add(checker.NewStepReport("cgroups/v2", "cgroup v2 # only", 10, checker.Skipped("cgroup2", "no cgroup2 mounted at /sys/fs/cgroup", "boot with systemd.unified_cgroup_hierarchy=1")))
	b.Add(checker.NewStepReport("cgroups/mem", "Memory <limit> & \"OOM\"", 10, checker.Errored("memory limit", os.ErrInvalid)))
	return []checker.Report{a, b}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./checker -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s (go test ./checker -update rewrites it):\n--- got\n%s\n--- want\n%s", name, path, got, want)
	}
}

func TestRenderGolden(t *testing.T) {
	for _, tt := range []struct {
		name   string
		format checker.Format
		opts   checker.TextOptions
	}{
		{"text", checker.FormatText, checker.TextOptions{}},
		{"text-color", checker.FormatText, checker.TextOptions{Color: true}},
		{"json", checker.FormatJSON, checker.TextOptions{}},
		{"junit", checker.FormatJUnit, checker.TextOptions{}},
		{"tap", checker.FormatTAP, checker.TextOptions{}},
		{"classroom", checker.FormatClassroom, checker.TextOptions{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := checker.Write(&out, tt.format, sampleReports(), tt.opts); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name, out.Bytes())
		})
	}
}

func TestPointsAddUp(t *testing.T) {
	reps := sampleReports()
	// 10 (pass) + 20 × 2/4 (partial) + 0 + 0 + 0
	if got := reps[0].Steps[1].Points; got != 10 {
		t.Errorf("partial credit = %v, want 10 (half the weight of 20 points)", got)
	}
	if points, maxPoints := checker.Totals(reps); points != 20 || maxPoints != 60 {
		t.Errorf("Totals = %v/%d, want 20/60", points, maxPoints)
	}
	for _, r := range reps {
		var sum float64
		var maxSum int
		for _, s := range r.Steps {
			sum += s.Points
			maxSum += s.MaxPoints
		}
		if sum != r.Points || maxSum != r.MaxPoints {
			t.Errorf("%s: steps add up to %v/%d, report says %v/%d", r.Lab, sum, maxSum, r.Points, r.MaxPoints)
		}
	}
	if checker.AllPassed(reps) {
		t.Error("AllPassed = true for a half-done course")
	}
}

func TestJUnitWellFormed(t *testing.T) {
	var out bytes.Buffer
	if err := checker.WriteJUnit(&out, sampleReports()); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Errors   int `xml:"errors,attr"`
		Skipped  int `xml:"skipped,attr"`
		Suites   []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name    string    `xml:"name,attr"`
				Failure *struct{} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("not well-formed XML: %v", err)
	}
	if doc.Tests != 5 || doc.Failures != 2 || doc.Errors != 1 || doc.Skipped != 1 {
		t.Errorf("counts = %d tests %d failures %d errors %d skipped, want 5 2 1 1", doc.Tests, doc.Failures, doc.Errors, doc.Skipped)
	}
	if len(doc.Suites) != 2 || doc.Suites[0].Name != "chroot" || len(doc.Suites[0].Cases) != 3 {
		t.Fatalf("suites = %+v, want chroot with 3 cases then cgroups", doc.Suites)
	}
	if doc.Suites[0].Cases[0].Failure != nil || doc.Suites[0].Cases[2].Failure == nil {
		t.Error("a passing step must have no <failure>, a failing one must")
	}
}

// TestTAP14 checks the output against the TAP 14 grammar: the version
// line, a plan that matches the test points, numbered points in order, and
// YAML blocks indented two spaces between --- and ... that parse as
// key: JSON-value lines.
func TestTAP14(t *testing.T) {
	var out bytes.Buffer
	if err := checker.WriteTAP(&out, sampleReports()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if lines[0] != "TAP version 14" {
		t.Fatalf("first line = %q, want TAP version 14", lines[0])
	}
	plan := regexp.MustCompile(`^1\.\.(\d+)$`).FindStringSubmatch(lines[1])
	if plan == nil {
		t.Fatalf("second line = %q, want a plan 1..N", lines[1])
	}
	point := regexp.MustCompile(`^(not )?ok (\d+) - [^#]*(\\#[^#]*)*( # SKIP .*)?$`)
	yamlLine := regexp.MustCompile(`^  [a-z_]+: (".*"|[0-9.]+|[a-z]+)$`)
	n, inYAML := 0, false
	for _, l := range lines[2:] {
		switch {
		case l == "  ---":
			inYAML = true
		case l == "  ...":
			inYAML = false
		case inYAML:
			if !yamlLine.MatchString(l) {
				t.Errorf("bad YAML diagnostic line %q", l)
			}
			if v, ok := strings.CutPrefix(l[strings.Index(l, ":")+2:], `"`); ok {
				var s string
				if err := json.Unmarshal([]byte(`"`+v), &s); err != nil {
					t.Errorf("YAML string %q does not parse: %v", l, err)
				}
			}
		case strings.HasPrefix(l, "#"):
		default:
			m := point.FindStringSubmatch(l)
			if m == nil {
				t.Errorf("bad test point %q", l)
				continue
			}
			n++
			if m[2] != strconv.Itoa(n) {
				t.Errorf("test point %q: want number %d", l, n)
			}
		}
	}
	if want, _ := strconv.Atoi(plan[1]); n != want {
		t.Errorf("%d test points, plan says %d", n, want)
	}
}

func TestClassroomSchema(t *testing.T) {
	var out bytes.Buffer
	if err := checker.WriteClassroom(&out, sampleReports()); err != nil {
		t.Fatal(err)
	}
	var res struct {
		Version  *int     `json:"version"`
		Status   string   `json:"status"`
		MaxScore *float64 `json:"max_score"`
		Tests    []struct {
			Name    string   `json:"name"`
			Status  string   `json:"status"`
			Message *string  `json:"message"`
			Score   *float64 `json:"score"`
		} `json:"tests"`
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	if res.Version == nil || *res.Version != 1 || res.MaxScore == nil || *res.MaxScore != 60 {
		t.Fatalf("version/max_score = %v/%v, want 1/60", res.Version, res.MaxScore)
	}
	if res.Status != "error" {
		t.Errorf("status = %q, want error (one step errored)", res.Status)
	}
	var sum float64
	for _, tc := range res.Tests {
		if tc.Name == "" || tc.Message == nil || tc.Score == nil {
			t.Errorf("test %+v lacks name, message or score", tc)
			continue
		}
		if tc.Status != "pass" && tc.Status != "fail" && tc.Status != "error" {
			t.Errorf("test %s: status %q not pass/fail/error", tc.Name, tc.Status)
		}
		sum += *tc.Score
	}
	if len(res.Tests) != 5 || sum != 20 {
		t.Errorf("%d tests scoring %v, want 5 scoring 20", len(res.Tests), sum)
	}
}

func TestParseFormat(t *testing.T) {
	if _, err := checker.ParseFormat("xml"); err == nil || !strings.Contains(err.Error(), `"xml"`) || !strings.Contains(err.Error(), "junit") {
		t.Errorf("ParseFormat(xml) = %v, want an error naming xml and the formats", err)
	}
	for _, f := range checker.Formats {
		if got, err := checker.ParseFormat(string(f)); err != nil || got != f {
			t.Errorf("ParseFormat(%s) = %v, %v", f, got, err)
		}
	}
}

func TestFormatPoints(t *testing.T) {
	for in, want := range map[float64]string{7: "7", 7.5: "7.5", 6.67: "6.67", 0: "0", 10.1: "10.1"} {
		if got := checker.FormatPoints(in); got != want {
			t.Errorf("FormatPoints(%v) = %q, want %q", in, got, want)
		}
	}
}
