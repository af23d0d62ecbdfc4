package image_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/lab-edu/lab/kernel/image"
)

// Names are normalized the way docker shows them.
func ExampleNormalizeName() {
	for _, ref := range []string{"busybox", "docker.io/library/alpine:3.20", "ghcr.io/org/app:v1"} {
		n, _ := image.NormalizeName(ref)
		fmt.Println(n)
	}
	// Output:
	// busybox:latest
	// alpine:3.20
	// ghcr.io/org/app:v1
}

// Import the host's busybox as the base image, then find the directories
// an overlay mount stacks for a container (needs root: the layer keeps
// its owners).
func ExampleStore_ImportBusybox() {
	dir, _ := os.MkdirTemp("", "image-example-")
	defer os.RemoveAll(dir)
	s, err := image.Open(filepath.Join(dir, "images"))
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := s.ImportBusybox("", "busybox", image.Options{}); err != nil {
		fmt.Println(err)
		return
	}
	img, err := s.Get("busybox")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(img.Names, len(img.Layers), "layer")
	fmt.Println(filepath.Dir(img.LowerDirs()[0]) == filepath.Join(s.Root(), "layers"))
}
