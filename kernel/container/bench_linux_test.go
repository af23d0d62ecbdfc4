package container

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/lab-edu/lab/kernel/image"
	"github.com/lab-edu/lab/kernel/kerneltest"
)

// BenchmarkRunTrue is `lab run --rm --net none busybox true` without the
// CLI: create, start, wait, clean up.
func BenchmarkRunTrue(b *testing.B) {
	kerneltest.Requires(b, kerneltest.Root, kerneltest.Tool("busybox"))
	root := b.TempDir()
	s, err := image.Open(filepath.Join(root, "images"))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.ImportBusybox("", "busybox", image.Options{}); err != nil {
		b.Fatal(err)
	}
	spec := Spec{Image: "busybox", Cmd: []string{"true"}, Net: NetNone, Remove: true}
	b.ResetTimer()
	for range b.N {
		if code, err := Run(context.Background(), root, spec, Stdio{}); code != 0 || err != nil {
			b.Fatalf("exit %d: %v", code, err)
		}
	}
}
