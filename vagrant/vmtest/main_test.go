package main

import (
	"bytes"
	"io"
	"os/exec"
	"strings"
	"testing"

	"github.com/lab-edu/lab/labs"
)

// Every catalogued lab gets a model submission that bash can parse, with
// every step's Solution in course order and no {{work}} left in it.
func TestSubmissionOfEveryLab(t *testing.T) {
	if len(labs.All()) == 0 {
		t.Fatal("the catalogue has no lab")
	}
	for _, lab := range labs.All() {
		var out bytes.Buffer
		if code := run([]string{"submission", lab.ID}, &out, io.Discard); code != 0 {
			t.Fatalf("vmtest submission %s: exit %d", lab.ID, code)
		}
		script := out.String()
		last := -1
		for _, s := range lab.Steps {
			i := strings.Index(script, "\n# "+s.ID+": ")
			switch {
			case i < 0:
				t.Errorf("%s: step %s missing", lab.ID, s.ID)
			case i < last:
				t.Errorf("%s: step %s out of order", lab.ID, s.ID)
			default:
				last = i
			}
		}
		if strings.Contains(script, "{{work}}") {
			t.Errorf("%s: {{work}} left in the script", lab.ID)
		}
		cmd := exec.Command("bash", "-n")
		cmd.Stdin = strings.NewReader(script)
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s: bash -n: %v\n%s", lab.ID, err, msg)
		}
	}
}

func TestSubmissionOfUnknownLab(t *testing.T) {
	var stderr bytes.Buffer
	if code := run([]string{"submission", "no-such-lab"}, io.Discard, &stderr); code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	if !strings.Contains(stderr.String(), `unknown lab "no-such-lab"`) {
		t.Errorf("stderr %q does not name the lab", stderr.String())
	}
}
