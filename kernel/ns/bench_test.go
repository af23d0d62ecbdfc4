package ns

import (
	"os"
	"testing"
)

// BenchmarkList measures a system-wide listing (what every uts check and
// `lab ns ls` do once): a readlink and a stat per process and kind.
func BenchmarkList(b *testing.B) {
	fsys := os.DirFS("/")
	for b.Loop() {
		if _, err := List(fsys); err != nil {
			b.Fatal(err)
		}
	}
}
