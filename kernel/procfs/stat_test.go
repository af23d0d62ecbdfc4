package procfs

import "testing"

func TestParseStartTime(t *testing.T) {
	// A command name with a space and a ")" must not shift the fields.
	line := "4242 (my (odd) cmd) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 50 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
	got, err := ParseStartTime(line)
	if err != nil || got != 987654 {
		t.Fatalf("ParseStartTime = %d, %v; want 987654", got, err)
	}
	if _, err := ParseStartTime("4242 (x) S 1"); err == nil {
		t.Fatal("a short line was accepted")
	}
}
