package probe_test

import (
	"os"
	"testing"

	"github.com/lab-edu/lab/checker/probe"
)

// BenchmarkWithRoot is the cost of the chroot/process check's scan of
// every /proc/PID/root on the live machine.
func BenchmarkWithRoot(b *testing.B) {
	fsys := os.DirFS("/")
	for b.Loop() {
		if _, err := probe.WithRoot(fsys, "/nonexistent/rootfs"); err != nil {
			b.Fatal(err)
		}
	}
}
