package labs_test

import (
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/lab-edu/lab/content"
)

// TestFrenchLessonsMatchEnglish holds every translation to its English
// original: only the prose may change. The file sits beside an English one,
// has an H1, the same H2 sections in the same order (headings stay in
// English, the parser keys on them), as many hints, a byte-identical
// Solution (so `lab solve --show` prints the same commands in any language),
// the same fenced code blocks (the kernel/ excerpts) and the same indented
// command lines.
func TestFrenchLessonsMatchEnglish(t *testing.T) {
	fsys := content.FS()
	var translations []string
	err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".fr.md") {
			translations = append(translations, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, frPath := range translations {
		t.Run(frPath, func(t *testing.T) {
			enPath := strings.TrimSuffix(frPath, ".fr.md") + ".md"
			enText, err := fs.ReadFile(fsys, enPath)
			if err != nil {
				t.Fatalf("no English original beside it: %v", err)
			}
			frText, err := fs.ReadFile(fsys, frPath)
			if err != nil {
				t.Fatal(err)
			}
			for _, problem := range compareTranslation(string(enText), string(frText)) {
				t.Error(problem)
			}
		})
	}
}

// compareTranslation lists how a translation's structure differs from
// its English original; none means only the prose changed.
func compareTranslation(enText, frText string) []string {
	var problems []string
	en, fr := content.Parse(enText), content.Parse(frText)
	if fr.Title == "" {
		problems = append(problems, "no H1 title")
	}
	if !slices.Equal(fr.Order, en.Order) {
		problems = append(problems, fmt.Sprintf("sections %q, want %q as in English (keep the ## headings in English)", fr.Order, en.Order))
	}
	if got, want := len(fr.HintList()), len(en.HintList()); got != want {
		problems = append(problems, fmt.Sprintf("%d hints, want %d as in English (one bullet per hint)", got, want))
	}
	if got, want := fr.Section(content.Solution), en.Section(content.Solution); got != want {
		problems = append(problems, fmt.Sprintf("Solution differs from English; it must be byte-identical:\n%s\nwant:\n%s", got, want))
	}
	if got, want := fencedBlocks(frText), fencedBlocks(enText); !slices.Equal(got, want) {
		problems = append(problems, fmt.Sprintf("fenced code blocks differ from English:\n%q\nwant:\n%q", got, want))
	}
	if got, want := indentedLines(frText), indentedLines(enText); !slices.Equal(got, want) {
		problems = append(problems, fmt.Sprintf("indented command lines differ from English:\n%q\nwant:\n%q", got, want))
	}
	return problems
}

// fencedBlocks returns the ``` blocks of a Markdown text, in order.
func fencedBlocks(md string) []string {
	var blocks []string
	var cur strings.Builder
	in := false
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "```") {
			if in {
				blocks = append(blocks, cur.String())
				cur.Reset()
			}
			in = !in
			continue
		}
		if in {
			cur.WriteString(line + "\n")
		}
	}
	return blocks
}

// indentedLines returns the lines indented by four spaces outside fences:
// Markdown's indented code, which the lessons use for commands in Task.
func indentedLines(md string) []string {
	var lines []string
	in := false
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "```") {
			in = !in
			continue
		}
		if !in && strings.HasPrefix(line, "    ") && strings.TrimSpace(line) != "" {
			lines = append(lines, line)
		}
	}
	return lines
}

// The comparison itself must catch a translated command.
func TestCompareTranslationCatchesChanges(t *testing.T) {
	en := "# T\n\n## Task\n\n    ls /\n\n## Hints\n\n- a\n- b\n\n## Solution\n\n```sh\nls /\n```\n"
	for name, fr := range map[string]string{
		"solution": strings.Replace(en, "```sh\nls /", "```sh\nls -l /", 1),
		"hints":    strings.Replace(en, "- b\n", "", 1),
		"heading":  strings.Replace(en, "## Task", "## Tâche", 1),
		"command":  strings.Replace(en, "    ls /", "    ls -a /", 1),
	} {
		if len(compareTranslation(en, fr)) == 0 {
			t.Errorf("%s changed: not caught", name)
		}
	}
	if p := compareTranslation(en, strings.Replace(en, "- a", "- un", 1)); len(p) != 0 {
		t.Errorf("prose changed only: %q", p)
	}
}
