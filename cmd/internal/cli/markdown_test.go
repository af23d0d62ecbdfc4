package cli

import (
	"strings"
	"testing"
)

func TestRenderANSI(t *testing.T) {
	md := "# Title\n\n## Task\n\nRun `ip netns add lab-red` and\nthen **check**.\n\n- first hint\n\n```sh\nip link\n```\n"
	got := renderANSI(md, 40)
	for _, want := range []string{
		ansiTitle + "Title" + ansiReset,
		ansiHead + "Task" + ansiReset,
		ansiCode + "ip netns add lab-red" + ansiReset,
		ansiBold + "check" + ansiReset,
		"  • first hint",
		"    " + ansiBlock + "ip link" + ansiReset,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("renderANSI missing %q in:\n%s", want, got)
		}
	}
	if strings.Contains(got, "```") || strings.Contains(got, "## ") {
		t.Errorf("renderANSI left Markdown syntax:\n%s", got)
	}
}

func TestWrapKeepsWidth(t *testing.T) {
	s := wrap("one two three four five six seven eight nine ten", 12, "  • ")
	for _, line := range strings.Split(s, "\n") {
		if visibleLen(line) > 12 {
			t.Errorf("line %q is longer than 12", line)
		}
	}
	if !strings.HasPrefix(s, "  • one") {
		t.Errorf("wrap = %q, want the lead first", s)
	}
}
