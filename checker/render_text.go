package checker

import (
	"fmt"
	"io"
	"strings"
)

const (
	ansiGreen  = "\x1b[32m"
	ansiRed    = "\x1b[31m"
	ansiYellow = "\x1b[33m"
	ansiDim    = "\x1b[2m"
	ansiBold   = "\x1b[1m"
	ansiReset  = "\x1b[0m"
)

// Mark is the symbol of a status in text output: ✓ pass, ✗ fail,
// ! error (our bug), - skipped.
func Mark(s Status) string {
	switch s {
	case Pass:
		return "✓"
	case Fail:
		return "✗"
	case Skip:
		return "-"
	}
	return "!"
}

func paint(on bool, code, s string) string {
	if !on || s == "" {
		return s
	}
	return code + s + ansiReset
}

func statusColor(s Status) string {
	switch s {
	case Pass:
		return ansiGreen
	case Fail:
		return ansiRed
	}
	return ansiYellow
}

// WriteText renders reports for a person: a line per step with ✓ or ✗
// and its points, then for a step that did not pass, the reason and the
// hint indented below it.
func WriteText(w io.Writer, reports []Report, opts TextOptions) error {
	var b strings.Builder
	for i, r := range reports {
		if i > 0 {
			b.WriteString("\n")
		}
		title := r.Lab
		if r.Title != "" {
			title += ": " + r.Title
		}
		b.WriteString(paint(opts.Color, ansiBold, title) + "\n")
		for _, s := range r.Steps {
			WriteStepText(&b, s, opts)
		}
		for _, e := range r.Evidence {
			b.WriteString(indent(paint(opts.Color, ansiDim, e), "    ") + "\n")
		}
		fmt.Fprintf(&b, "  %s/%d points\n", FormatPoints(r.Points), r.MaxPoints)
	}
	if len(reports) > 1 {
		points, maxPoints := Totals(reports)
		fmt.Fprintf(&b, "\nTotal: %s/%d points\n", FormatPoints(points), maxPoints)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteStepText renders one step: the mark, ID, title and points, then
// why it did not pass and what to try.
func WriteStepText(w io.Writer, s StepReport, opts TextOptions) {
	r := s.Result
	mark := paint(opts.Color, statusColor(r.Status), Mark(r.Status))
	fmt.Fprintf(w, "  %s %s  %s  %s/%d\n", mark, s.ID, s.Title, FormatPoints(s.Points), s.MaxPoints)
	if r.OK() {
		return
	}
	if r.Status == Skip {
		fmt.Fprintf(w, "      skipped: %s\n", r.Reason)
	} else if r.Reason != "" {
		fmt.Fprintf(w, "      %s\n", r.Reason)
	}
	for _, p := range failedParts(r) {
		fmt.Fprintf(w, "      %s %s\n", paint(opts.Color, statusColor(p.Status), Mark(p.Status)), p.Name)
	}
	if r.Hint != "" {
		fmt.Fprintf(w, "      %s\n", paint(opts.Color, ansiDim, "hint: "+r.Hint))
	}
}

// failedParts lists the parts of a partly-passed Weighted check, so the
// learner sees what earned credit and what did not. All-or-nothing checks
// already name their first failure in the reason.
func failedParts(r Result) []Result {
	if r.Score <= 0 || r.Score >= 1 {
		return nil
	}
	return r.Parts
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n")
}
