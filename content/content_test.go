package content

import "testing"

const sample = "# Build a rootfs\n\n## Goal\n\nLearn.\n\n## Hints\n\n- first\n- second,\n  continued\n\n## Solution\n\n```sh\n# a comment, not a heading\nmkdir -p {{work}}/rootfs\n```\n"

func TestParse(t *testing.T) {
	d := Parse(sample)
	if d.Title != "Build a rootfs" || d.Section(Goal) != "Learn." {
		t.Errorf("Parse: title %q goal %q", d.Title, d.Section(Goal))
	}
	if h := d.HintList(); len(h) != 2 || h[1] != "second, continued" {
		t.Errorf("HintList = %q", h)
	}
	if sh := Render(d.Shell(), "/w"); sh != "# a comment, not a heading\nmkdir -p /w/rootfs\n" {
		t.Errorf("Shell = %q", sh)
	}
}
