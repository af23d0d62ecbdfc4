package checkertest

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// Golden compares got with the file at path (usually testdata/NAME.golden).
// With LAB_UPDATE_GOLDEN=1, or when the test binary defines an -update flag
// and it is set, it writes got to the file instead.
func Golden(t testing.TB, path string, got []byte) {
	t.Helper()
	if updating() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file: %v (run with LAB_UPDATE_GOLDEN=1 to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (LAB_UPDATE_GOLDEN=1 to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func updating() bool {
	if os.Getenv("LAB_UPDATE_GOLDEN") == "1" {
		return true
	}
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}
