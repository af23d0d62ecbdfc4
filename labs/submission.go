package labs

import (
	"fmt"
	"strings"

	"github.com/lab-edu/lab/content"
)

// ModelSubmission is the LAB.sh a student who followed every lesson of
// lab literally would hand in for `lab grade --submission`: the Solution
// block of every step, in order, with {{work}} standing for work, the
// lab's workspace on the grading machine (/var/lib/lab/work/LAB with the
// default LAB_ROOT). Teachers and the tests use it as the full-marks
// example.
func ModelSubmission(lab Lab, work string) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "#!/bin/bash\n# A model submission for %s: the Solution of every step, in order.\nset -e\n", lab.ID)
	for _, s := range lab.Steps {
		doc, err := content.Step(s.ID, "en")
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "\n# %s: %s\n%s", s.ID, doc.Title, content.Render(doc.Shell(), work))
	}
	return b.String(), nil
}
