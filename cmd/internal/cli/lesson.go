package cli

import (
	"fmt"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/lab-edu/lab/content"
	"github.com/lab-edu/lab/labs"
)

// printMarkdown shows lesson text: rendered with ANSI styles on a terminal,
// plain Markdown otherwise (pipes, files, tests), which reads fine too.
func printMarkdown(io *IOStreams, md string) {
	md = strings.TrimSpace(md) + "\n"
	if io.IsTerminal() {
		if out, err := renderTerminal(md); err == nil {
			fmt.Fprint(io.Out, out)
			return
		}
	}
	fmt.Fprint(io.Out, md)
}

func renderTerminal(md string) (string, error) {
	width := 80
	if w, _, err := term.GetSize(int(os.Stdout.Fd())); err == nil && w > 20 {
		width = min(w, 100)
	}
	return renderANSI(md, width-2), nil
}

// stepDoc and labDoc load lesson text; tests swap them for fixtures.
var (
	stepDoc = content.Step
	labDoc  = content.Lab
)

// lessonSections are shown when a step starts; Hints come one at a time
// with `lab hint`, the Explanation after success, the Solution with
// `lab solve --show`.
var lessonSections = []string{content.Goal, content.Background, content.Task, content.Checks}

// stepLesson is the Markdown of step i of l, with {{work}} replaced.
func stepLesson(f *Factory, l labs.Lab, i int) string {
	s := l.Steps[i]
	var b strings.Builder
	doc, err := stepDoc(s.ID, f.Lang)
	title, stepWord := s.Title, "Step"
	if f.Lang == "fr" {
		stepWord = "Étape"
		if err == nil && doc.Title != "" {
			title = doc.Title // the translated H1
		}
	}
	fmt.Fprintf(&b, "# %s\n\n", title)
	fmt.Fprintf(&b, "*%s %d/%d · `%s` · %d points*\n\n", stepWord, i+1, len(l.Steps), s.ID, s.MaxPoints())
	if err != nil {
		fmt.Fprintf(&b, "(no lesson text for %s yet)\n", s.ID)
		return b.String()
	}
	for _, name := range lessonSections {
		if body := doc.Section(name); body != "" {
			fmt.Fprintf(&b, "## %s\n\n%s\n\n", sectionTitle(f.Lang, name), body)
		}
	}
	if f.Lang == "fr" {
		fmt.Fprintf(&b, "Quand vous avez terminé : `sudo lab check`. Bloqué ? `lab hint`.\n")
	} else {
		fmt.Fprintf(&b, "When you are done: `sudo lab check`. Stuck: `lab hint`.\n")
	}
	return content.Render(b.String(), workspace(f, l.ID))
}

// labSection is the Intro or Finish of a lab, with {{work}} replaced.
func labSection(f *Factory, l labs.Lab, section string) string {
	doc, err := labDoc(l.ID, f.Lang)
	if err != nil || doc.Section(section) == "" {
		return ""
	}
	return content.Render(doc.Section(section), workspace(f, l.ID))
}

// stepSection is one section of a step's lesson, with {{work}} replaced.
func stepSection(f *Factory, l labs.Lab, i int, section string) string {
	doc, err := stepDoc(l.Steps[i].ID, f.Lang)
	if err != nil {
		return ""
	}
	return content.Render(doc.Section(section), workspace(f, l.ID))
}

// showStep prints a step's lesson.
func showStep(f *Factory, l labs.Lab, i int) { printMarkdown(f.IO, stepLesson(f, l, i)) }

// showNext prints what comes after step i passed or was solved: the step's
// explanation, then the next step's lesson or the lab's finish.
func showNext(f *Factory, l labs.Lab, i int) {
	if text := stepSection(f, l, i, content.Explanation); text != "" {
		printMarkdown(f.IO, "## "+sectionTitle(f.Lang, content.Explanation)+"\n\n"+text)
		fmt.Fprintln(f.IO.Out)
	}
	if i+1 < len(l.Steps) {
		showStep(f, l, i+1)
		return
	}
	finish := labSection(f, l, "Finish")
	if finish == "" {
		finish = "That was the last step."
	}
	printMarkdown(f.IO, fmt.Sprintf("# %s: done\n\n%s\n\n`lab grade --lab %s` re-verifies the whole lab; `lab list` shows the others.", l.ID, finish, l.ID))
}
