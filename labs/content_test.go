package labs_test

import (
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/lab-edu/lab/content"
	"github.com/lab-edu/lab/labs"
)

// TestEveryStepHasALesson is rustlings' rule: every step of every lab has
// its lesson file with all the fixed sections in order, a Hints list and
// one shell block in Solution; and every lab has its Intro and Finish.
func TestEveryStepHasALesson(t *testing.T) {
	for _, l := range labs.All() {
		doc, err := content.Lab(l.ID, "")
		if err != nil {
			t.Errorf("lab %s: %v (add content/labs/%s.md)", l.ID, err, l.ID)
		} else {
			for _, s := range []string{"Intro", "Finish"} {
				if strings.TrimSpace(doc.Section(s)) == "" {
					t.Errorf("content/labs/%s.md: no ## %s section", l.ID, s)
				}
			}
		}
		for _, s := range l.Steps {
			doc, err := content.Step(s.ID, "")
			if err != nil {
				t.Errorf("step %s: %v (add content/steps/%s.md)", s.ID, err, s.ID)
				continue
			}
			if doc.Title == "" {
				t.Errorf("content/steps/%s.md: no # title", s.ID)
			}
			var got []string
			for _, name := range doc.Order {
				if slices.Contains(content.StepSections, name) {
					got = append(got, name)
				}
			}
			if !slices.Equal(got, content.StepSections) {
				t.Errorf("content/steps/%s.md: sections %q, want %q in this order", s.ID, doc.Order, content.StepSections)
			}
			for _, name := range content.StepSections {
				if strings.TrimSpace(doc.Section(name)) == "" {
					t.Errorf("content/steps/%s.md: ## %s is empty", s.ID, name)
				}
			}
			if len(doc.HintList()) == 0 {
				t.Errorf("content/steps/%s.md: ## Hints has no bullet", s.ID)
			}
			if strings.TrimSpace(doc.Shell()) == "" {
				t.Errorf("content/steps/%s.md: ## Solution has no ```sh block", s.ID)
			}
		}
	}
}

// TestNoOrphanLessons: every lesson file belongs to a step or a lab, so a
// renamed step cannot leave its text behind.
func TestNoOrphanLessons(t *testing.T) {
	stepIDs, labIDs := map[string]bool{}, map[string]bool{}
	for _, l := range labs.All() {
		labIDs[l.ID] = true
		for _, s := range l.Steps {
			stepIDs[s.ID] = true
		}
	}
	err := fs.WalkDir(content.FS(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".md") {
			return err
		}
		id := strings.TrimSuffix(strings.TrimSuffix(path, ".md"), ".fr") // a translation belongs to the same ID
		switch {
		case strings.HasPrefix(id, "steps/"):
			if !stepIDs[strings.TrimPrefix(id, "steps/")] {
				t.Errorf("content/%s has no step %s in labs.All()", path, strings.TrimPrefix(id, "steps/"))
			}
		case strings.HasPrefix(id, "labs/"):
			if !labIDs[strings.TrimPrefix(id, "labs/")] {
				t.Errorf("content/%s has no lab in labs.All()", path)
			}
		default:
			t.Errorf("content/%s is neither under labs/ nor steps/", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
