package netns

import "testing"

func TestCheckName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"lab-red", true},
		{"", false},
		{".", false},
		{"..", false},
		{"a/b", false},
		{"../etc", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := CheckName(tt.name); (err == nil) != tt.ok {
				t.Errorf("CheckName(%q) = %v, want ok %v", tt.name, err, tt.ok)
			}
		})
	}
}

func TestPath(t *testing.T) {
	if got, want := Path("lab-red"), "/run/netns/lab-red"; got != want {
		t.Errorf("Path(lab-red) = %q, want %q", got, want)
	}
}
