package cli

import (
	"strings"
	"testing"

	"github.com/lab-edu/lab/content"
)

func TestLessonLang(t *testing.T) {
	tests := []struct {
		name string
		flag string
		env  map[string]string
		want string
	}{
		{"nothing set", "", nil, "en"},
		{"C locale", "", map[string]string{"LANG": "C.UTF-8"}, "en"},
		{"French LANG", "", map[string]string{"LANG": "fr_FR.UTF-8"}, "fr"},
		{"Canadian French", "", map[string]string{"LANG": "fr_CA"}, "fr"},
		{"LC_MESSAGES over LANG", "", map[string]string{"LANG": "fr_FR.UTF-8", "LC_MESSAGES": "en_US.UTF-8"}, "en"},
		{"LC_ALL over LC_MESSAGES", "", map[string]string{"LC_MESSAGES": "en_US.UTF-8", "LC_ALL": "fr_BE.UTF-8"}, "fr"},
		{"LAB_LANG over locale", "", map[string]string{"LAB_LANG": "en", "LC_ALL": "fr_FR.UTF-8"}, "en"},
		{"LAB_LANG French", "", map[string]string{"LAB_LANG": "fr", "LANG": "en_US.UTF-8"}, "fr"},
		{"flag over LAB_LANG", "en", map[string]string{"LAB_LANG": "fr"}, "en"},
		{"flag French", "fr", nil, "fr"},
		{"flag case", "FR", nil, "fr"},
		// The flag wins, so a bad LAB_LANG does not matter when it is given.
		{"flag over bad LAB_LANG", "fr", map[string]string{"LAB_LANG": "de"}, "fr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := lessonLang(tt.flag, func(k string) string { return tt.env[k] })
			if err != nil || got != tt.want {
				t.Errorf("lessonLang(%q, %v) = %q, %v; want %q", tt.flag, tt.env, got, err, tt.want)
			}
		})
	}
}

func TestLessonLangUnknown(t *testing.T) {
	for _, tt := range []struct{ flag, labLang, names string }{
		{"de", "", "--lang"},
		{"", "klingon", "LAB_LANG"},
	} {
		_, err := lessonLang(tt.flag, func(k string) string {
			if k == "LAB_LANG" {
				return tt.labLang
			}
			return ""
		})
		if exitCode(err) != ExitUsage {
			t.Fatalf("lessonLang(%q) with LAB_LANG=%q: err %v, want a usage error", tt.flag, tt.labLang, err)
		}
		if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, tt.names) || !strings.Contains(msg, "en or fr") {
			t.Errorf("error %q: want one line naming %s and the choices", msg, tt.names)
		}
	}
}

// The root command parses --lang and rejects an unknown one with exit 2
// before any command runs.
func TestLangFlag(t *testing.T) {
	t.Setenv("LAB_LANG", "")
	e := newTestEnv(t)
	if code := e.run(t, "--lang", "fr", "version"); code != ExitOK {
		t.Fatalf("--lang fr version: exit %d, stderr %q", code, e.errOut)
	}
	if e.f.Lang != "fr" {
		t.Errorf("--lang fr: f.Lang = %q", e.f.Lang)
	}
	if code := e.run(t, "list", "--lang", "de"); code != ExitUsage {
		t.Errorf("--lang de: exit %d, want %d", code, ExitUsage)
	}
}

func TestSectionTitle(t *testing.T) {
	if got := sectionTitle("fr", content.Goal); got != "Objectif" {
		t.Errorf("French Goal = %q", got)
	}
	for _, lang := range []string{"", "en"} {
		for _, s := range content.StepSections {
			if got := sectionTitle(lang, s); got != s {
				t.Errorf("sectionTitle(%q, %q) = %q", lang, s, got)
			}
		}
	}
}

// `lab solve --show` prints the same commands whatever the language: the
// Solution block of a translation is byte-identical to the English one.
func TestSolveShowSameInFrench(t *testing.T) {
	for _, id := range []string{"chroot/rootfs", "chroot/process"} {
		en, err := content.Step(id, "en")
		if err != nil {
			t.Fatal(err)
		}
		fr, err := content.Step(id, "fr")
		if err != nil {
			t.Fatal(err)
		}
		if en.Shell() == "" || en.Shell() != fr.Shell() {
			t.Errorf("%s: French solution differs from English:\n%s\nvs\n%s", id, fr.Shell(), en.Shell())
		}
	}
}
