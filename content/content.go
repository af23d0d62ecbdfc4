// Package content holds the lesson text of every lab and step, in Markdown,
// embedded in the binary so the lab VM needs nothing else.
//
// Layout: labs/<lab>.md has "## Intro" and "## Finish" sections;
// steps/<lab>/<slug>.md has the fixed step sections below. A French
// translation sits beside a file as <name>.fr.md.
//
// The placeholder {{work}} in any text stands for the lab's workspace
// directory (by default /var/lib/lab/work/<lab>); Render replaces it.
package content

import (
	"embed"
	"fmt"
	"io/fs"
	"strings"
)

//go:embed labs steps
var files embed.FS

// FS returns the embedded lesson files.
func FS() fs.FS { return files }

// The fixed H2 sections of a step file.
const (
	Goal        = "Goal"                       // what you will learn
	Background  = "Background"                 // the course material
	Task        = "Task"                       // what to do, with exact commands
	Hints       = "Hints"                      // a bullet list, one hint revealed per `lab hint`
	Checks      = "What the checker looks for" // the checks, in words
	Explanation = "Explanation"                // shown after success; points at kernel/ code
	Solution    = "Solution"                   // one ```sh block: what `lab solve --show` prints
)

// StepSections are the sections every step file must have, in order.
var StepSections = []string{Goal, Background, Task, Hints, Checks, Explanation, Solution}

// Doc is a parsed lesson: its title (the H1) and its H2 sections.
type Doc struct {
	Title    string
	Sections map[string]string
	Order    []string
}

// Section returns the body of the named H2 section, trimmed.
func (d Doc) Section(name string) string { return d.Sections[name] }

// Step returns the lesson of step ID ("chroot/rootfs"). lang "" or "en" is
// English; "fr" falls back to English where no translation exists.
func Step(id, lang string) (Doc, error) {
	return load("steps/"+id, lang)
}

// Lab returns the intro and finish text of a lab.
func Lab(id, lang string) (Doc, error) {
	return load("labs/"+id, lang)
}

func load(base, lang string) (Doc, error) {
	if lang != "" && lang != "en" {
		if b, err := fs.ReadFile(files, base+"."+lang+".md"); err == nil {
			return Parse(string(b)), nil
		}
	}
	b, err := fs.ReadFile(files, base+".md")
	if err != nil {
		return Doc{}, fmt.Errorf("read lesson %s: %w", base, err)
	}
	return Parse(string(b)), nil
}

// Parse splits Markdown into its H1 title and H2 sections. Headings inside
// fenced code blocks are not headings.
func Parse(md string) Doc {
	d := Doc{Sections: map[string]string{}}
	var current string
	var body strings.Builder
	flush := func() {
		if current != "" {
			d.Sections[current] = strings.TrimSpace(body.String())
			d.Order = append(d.Order, current)
		}
		body.Reset()
	}
	inFence := false
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "```") {
			inFence = !inFence
		}
		switch {
		case !inFence && strings.HasPrefix(line, "# ") && d.Title == "":
			d.Title = strings.TrimSpace(line[2:])
		case !inFence && strings.HasPrefix(line, "## "):
			flush()
			current = strings.TrimSpace(line[3:])
		default:
			body.WriteString(line + "\n")
		}
	}
	flush()
	return d
}

// HintList returns the bullet items of the Hints section, in order.
// A bullet may continue on indented lines.
func (d Doc) HintList() []string {
	var hints []string
	for _, line := range strings.Split(d.Section(Hints), "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, "- ") || strings.HasPrefix(trimmed, "* "):
			hints = append(hints, strings.TrimSpace(trimmed[2:]))
		case trimmed != "" && len(hints) > 0:
			hints[len(hints)-1] += " " + trimmed
		}
	}
	return hints
}

// Shell returns the commands of the Solution section's code blocks, joined.
func (d Doc) Shell() string {
	var out strings.Builder
	inFence := false
	for _, line := range strings.Split(d.Section(Solution), "\n") {
		if strings.HasPrefix(line, "```") {
			inFence = !inFence
			continue
		}
		if inFence {
			out.WriteString(line + "\n")
		}
	}
	return out.String()
}

// Render replaces the {{work}} placeholder with the lab's workspace path.
func Render(text, work string) string {
	return strings.ReplaceAll(text, "{{work}}", work)
}
