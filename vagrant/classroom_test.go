package vagrant_test

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/lab-edu/lab/kernel/kerneltest"
	"github.com/lab-edu/lab/labs"
	"github.com/lab-edu/lab/steps/stepstest"
)

// workflow is the part of a GitHub Actions workflow the test reads.
type workflow struct {
	On   map[string]any `yaml:"on"`
	Env  map[string]string
	Jobs map[string]struct {
		RunsOn string `yaml:"runs-on"`
		Steps  []struct {
			Name string
			Uses string
			Run  string
			ID   string
			Env  map[string]string
			With map[string]string
		}
	}
}

// The example GitHub Classroom workflow is valid YAML with the shape
// Actions and Classroom need: it grades with `lab grade --format
// classroom`, hands the base64 result to the grading reporter under the
// name of its runner, and every run: block passes shellcheck.
func TestClassroomWorkflow(t *testing.T) {
	b, err := os.ReadFile("classroom/autograding.yml")
	if err != nil {
		t.Fatal(err)
	}
	var w workflow
	if err := yaml.Unmarshal(b, &w); err != nil {
		t.Fatalf("autograding.yml is not valid YAML: %v", err)
	}
	if _, ok := w.On["push"]; !ok {
		t.Error("the workflow does not run on push")
	}
	job, ok := w.Jobs["grade"]
	if !ok || !strings.HasPrefix(job.RunsOn, "ubuntu-") {
		t.Fatalf("no grade job on an Ubuntu runner: %+v", w.Jobs)
	}
	var graded, reported, built bool
	var scripts []string
	for _, s := range job.Steps {
		if s.Run != "" {
			scripts = append(scripts, s.Run)
		}
		switch {
		case strings.Contains(s.Run, "lab grade --submission") && strings.Contains(s.Run, "--format classroom"):
			graded = s.ID != "" && strings.Contains(s.Run, "base64 -w0 result.json") && strings.Contains(s.Run, "$GITHUB_OUTPUT")
		case strings.Contains(s.Run, "./cmd/lab ./cmd/lab-init"):
			built = strings.Contains(s.Run, "CGO_ENABLED=0")
		case strings.HasPrefix(s.Uses, "classroom-resources/autograding-grading-reporter@"):
			runner := s.With["runners"]
			reported = runner != "" && strings.Contains(s.Env[strings.ToUpper(runner)+"_RESULTS"], "steps.grade.outputs.result")
		}
	}
	if !graded || !reported || !built {
		t.Errorf("graded with an output %v, reported to Classroom %v, lab and lab-init built statically %v", graded, reported, built)
	}
	kerneltest.Requires(t, kerneltest.Tool("shellcheck"))
	for i, script := range scripts {
		// Actions runs run: blocks with bash -e; ${{ }} is replaced first.
		p := filepath.Join(t.TempDir(), "run.sh")
		body := "#!/bin/bash\nset -e\n" + strings.ReplaceAll(script, "${{", "${X")
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("shellcheck", "-e", "SC2154", p).CombinedOutput(); err != nil {
			t.Errorf("shellcheck of run: block %d:\n%s\n%s", i, script, out)
		}
	}
}

// grade-class.sh grades a folder of three students' chroot submissions
// on this machine, as a teacher would on a clean VM: one text, JUnit and
// Classroom report each and a summary line, full marks only for the model
// submission, and nothing of the grading left on the host.
func TestGradeClass(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root, kerneltest.Tool("busybox"), kerneltest.Tool("bash"))
	bin, err := stepstest.LabBinary(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	lab, err := labs.Find(labs.All(), "chroot")
	if err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(root, "work", "chroot")
	full, err := labs.ModelSubmission(lab, work)
	if err != nil {
		t.Fatal(err)
	}
	firstOnly := lab
	firstOnly.Steps = lab.Steps[:1]
	partial, err := labs.ModelSubmission(firstOnly, work)
	if err != nil {
		t.Fatal(err)
	}
	subs, out := t.TempDir(), t.TempDir()
	for name, script := range map[string]string{"ada": full, "bob": partial, "eve": ""} {
		if err := os.MkdirAll(filepath.Join(subs, name), 0o755); err != nil {
			t.Fatal(err)
		}
		if script != "" {
			if err := os.WriteFile(filepath.Join(subs, name, "chroot.sh"), []byte(script), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	before := stepstest.Snapshot(t)
	cmd := exec.Command("bash", "classroom/grade-class.sh", subs, out, "chroot")
	cmd.Env = append(os.Environ(), "LAB="+bin, "LAB_ROOT="+root)
	output, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("grade-class.sh: %v, want exit 1 (not everyone has full marks)\n%s", err, output)
	}
	summary, err := os.ReadFile(filepath.Join(out, "summary.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	points := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(summary)), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 4 || f[1] != "chroot" {
			t.Fatalf("summary line %q: want name, lab, points, maximum", line)
		}
		points[f[0]] = f[2:]
	}
	max := points["ada"][1]
	if points["ada"][0] != max || points["eve"][0] != "0" || points["bob"][0] == "0" || points["bob"][0] == max {
		report, _ := os.ReadFile(filepath.Join(out, "ada-chroot.txt"))
		t.Errorf("points %v: want ada full marks, bob some, eve none\n%s\nada's report:\n%s", points, output, report)
	}
	var suite struct {
		Suites []struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
		} `xml:"testsuite"`
	}
	if b, err := os.ReadFile(filepath.Join(out, "ada-chroot.xml")); err != nil || xml.Unmarshal(b, &suite) != nil ||
		len(suite.Suites) != 1 || suite.Suites[0].Tests != len(lab.Steps) || suite.Suites[0].Failures != 0 {
		t.Errorf("ada's JUnit report: %+v, %v", suite, err)
	}
	var classroom struct {
		Status string `json:"status"`
	}
	if b, err := os.ReadFile(filepath.Join(out, "eve-chroot.json")); err != nil || json.Unmarshal(b, &classroom) != nil || classroom.Status != "fail" {
		t.Errorf("eve's Classroom report: %+v, %v", classroom, err)
	}
	if b, err := os.ReadFile(filepath.Join(out, "bob-chroot.txt")); err != nil || !strings.Contains(string(b), "chroot") {
		t.Errorf("bob's text report: %v\n%s", err, b)
	}
	stepstest.Same(t, before, stepstest.Snapshot(t))
}
