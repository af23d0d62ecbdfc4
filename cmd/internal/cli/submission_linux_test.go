package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/lab-edu/lab/kernel/kerneltest"
	"github.com/lab-edu/lab/labs"
	"github.com/lab-edu/lab/steps/stepstest"
)

// A teacher's model answer, the Solution blocks of every step as one
// script, gets full marks from `lab grade --submission`, also in labs
// whose steps start from material the lessons hand the student (mount's
// rootfs to pivot into, overlay's layers): grading makes every step's
// Materials before the script, and solves none of them.
func TestModelSubmissionsFullMarks(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root, kerneltest.Tool("busybox"), kerneltest.Tool("go"))
	bin := t.TempDir()
	if _, err := stepstest.LabBinary(bin); err != nil { // overlay's script runs lab image import
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	e := newTestEnv(t)
	e.f.Labs = labs.All
	dir := t.TempDir()
	for _, id := range []string{"mount", "overlay"} {
		lab, err := labs.Find(labs.All(), id)
		if err != nil {
			t.Fatal(err)
		}
		script, err := labs.ModelSubmission(lab, filepath.Join(e.f.Work(), id))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, id+".sh"), []byte(script), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	before := stepstest.Snapshot(t)
	code := e.run(t, "grade", "--format", "json", "--submission", dir)
	var doc struct {
		Labs []struct {
			Lab       string  `json:"lab"`
			Points    float64 `json:"points"`
			MaxPoints float64 `json:"max_points"`
		} `json:"labs"`
	}
	if err := json.Unmarshal(e.out.Bytes(), &doc); err != nil {
		t.Fatalf("grade json: %v\n%s%s", err, e.out, e.errOut)
	}
	if code != ExitOK || len(doc.Labs) != 2 {
		t.Errorf("exit %d, %d labs graded, want 0 and 2:\n%s%s", code, len(doc.Labs), e.out, e.errOut)
	}
	for _, l := range doc.Labs {
		if l.MaxPoints == 0 || l.Points != l.MaxPoints {
			t.Errorf("%s: %v/%v points for the model submission:\n%s", l.Lab, l.Points, l.MaxPoints, e.out)
		}
	}
	stepstest.Same(t, before, stepstest.Snapshot(t))
}
