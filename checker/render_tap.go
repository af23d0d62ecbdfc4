package checker

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// WriteTAP renders the reports as TAP version 14 (testanything.org): the
// version line, the plan, then one test point per step. A step that did
// not pass carries a YAML diagnostics block, indented two spaces between
// "---" and "...". Skipped steps use the "# SKIP" directive.
func WriteTAP(w io.Writer, reports []Report) error {
	var b strings.Builder
	total := 0
	for _, r := range reports {
		total += len(r.Steps)
	}
	b.WriteString("TAP version 14\n")
	fmt.Fprintf(&b, "1..%d\n", total)
	n := 0
	for _, r := range reports {
		fmt.Fprintf(&b, "# %s: %s/%d points\n", r.Lab, FormatPoints(r.Points), r.MaxPoints)
		for _, s := range r.Steps {
			n++
			writeTAPPoint(&b, n, s)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeTAPPoint(b *strings.Builder, n int, s StepReport) {
	r := s.Result
	desc := tapEscape(s.ID + ": " + s.Title)
	switch r.Status {
	case Pass:
		fmt.Fprintf(b, "ok %d - %s\n", n, desc)
		return
	case Skip:
		fmt.Fprintf(b, "ok %d - %s # SKIP %s\n", n, desc, tapEscape(oneLine(r.Reason)))
		return
	}
	fmt.Fprintf(b, "not ok %d - %s\n", n, desc)
	b.WriteString("  ---\n")
	for _, kv := range []struct{ k, v string }{
		{"message", r.Reason}, {"severity", string(r.Status)},
		{"expected", r.Expected}, {"found", r.Found}, {"hint", r.Hint},
	} {
		if kv.v != "" {
			fmt.Fprintf(b, "  %s: %s\n", kv.k, yamlString(kv.v))
		}
	}
	fmt.Fprintf(b, "  points: %s\n", FormatPoints(s.Points))
	fmt.Fprintf(b, "  max_points: %d\n", s.MaxPoints)
	b.WriteString("  ...\n")
}

// yamlString quotes s as a YAML double-quoted scalar; a JSON string is
// one (YAML 1.2 is a superset of JSON).
func yamlString(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}

// tapEscape protects the characters TAP gives a meaning to in a
// description: "#" starts a directive and "\" escapes.
func tapEscape(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	return strings.ReplaceAll(oneLine(s), "#", `\#`)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
