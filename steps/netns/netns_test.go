package netnslab

import (
	"testing"

	"github.com/lab-edu/lab/content"
	"github.com/lab-edu/lab/kernel/netdev"
)

func TestNamesFitIFNAMSIZ(t *testing.T) {
	// Interface names are at most 15 bytes (IFNAMSIZ 16 with the NUL).
	names := []string{redVeth, blueVeth, bridge}
	for _, c := range colors {
		names = append(names, hostEnd(c), nsEnd(c))
	}
	for _, n := range names {
		if len(n) > 15 {
			t.Errorf("link name %q is %d bytes, the kernel allows 15", n, len(n))
		}
		if !isLabLink(n) {
			t.Errorf("isLabLink(%q) = false: Reset would not find it", n)
		}
	}
	for _, n := range []string{"eth0", "lo", "docker0", "lab0", "lab-br1", "veth1234"} {
		if isLabLink(n) {
			t.Errorf("isLabLink(%q) = true: Reset would delete a link that is not the lab's", n)
		}
	}
}

func TestIsLabRule(t *testing.T) {
	tests := []struct {
		line string
		want bool
	}{
		{"-A POSTROUTING -s 10.200.2.0/24 ! -o lab-br0 -j MASQUERADE", true},
		{"-A POSTROUTING -s 10.200.1.0/24 -j MASQUERADE", true},
		{"-A PREROUTING -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.200.2.3:8080", true},
		{"-A FORWARD -i lab-br0 -j ACCEPT", true},
		{"-A PREROUTING -p tcp -m comment --comment lab -j ACCEPT", true},
		{"-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE", false},
		{"-A PREROUTING -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80", false},
		{"-A FORWARD -i labnet -j ACCEPT", false},
	}
	for _, tt := range tests {
		r, ok := netdev.ParseRule("nat", tt.line)
		if !ok {
			t.Fatalf("ParseRule(%q) failed", tt.line)
		}
		if got := isLabRule(r); got != tt.want {
			t.Errorf("isLabRule(%q) = %v, want %v", tt.line, got, tt.want)
		}
	}
}

func TestQuizAcceptsOnlyTheRightSet(t *testing.T) {
	for answer, want := range map[string]bool{
		"a,b,c,d": true, "d c b a": true, "a,b,c": false, "a,b,c,d,h": false, "e,f,g": false,
	} {
		r := isolationQuiz.Grade(t.Context(), nil, answer)
		if r.OK() != want {
			t.Errorf("Grade(%q) = %s (%s), want pass %v", answer, r.Status, r.Reason, want)
		}
	}
}

func TestEveryStepHasItsLesson(t *testing.T) {
	for _, s := range Steps() {
		doc, err := content.Step(s.ID, "")
		if err != nil {
			t.Errorf("%s: %v", s.ID, err)
			continue
		}
		for _, sec := range content.StepSections {
			if doc.Section(sec) == "" {
				t.Errorf("%s: section %q is empty or missing", s.ID, sec)
			}
		}
		if len(doc.HintList()) < 2 {
			t.Errorf("%s: %d hints, want at least 2", s.ID, len(doc.HintList()))
		}
	}
	if _, err := content.Lab(ID, ""); err != nil {
		t.Error(err)
	}
}
