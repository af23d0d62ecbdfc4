package overlay_test

import (
	"fmt"

	"github.com/lab-edu/lab/kernel/overlay"
)

// A container's filesystem: two image layers (the top one first), and the
// container's own writable layer.
func ExampleLayers_Options() {
	l := overlay.Layers{
		Lower: []string{"/var/lib/lab/images/layers/app", "/var/lib/lab/images/layers/base"},
		Upper: "/run/lab/c1/upper",
		Work:  "/run/lab/c1/work",
	}
	data, err := l.Options()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(data)
	// Output: lowerdir=/var/lib/lab/images/layers/app:/var/lib/lab/images/layers/base,upperdir=/run/lab/c1/upper,workdir=/run/lab/c1/work
}

// What the kernel shows in /proc/self/mountinfo reads back as Layers.
func ExampleParseOptions() {
	l := overlay.ParseOptions("rw,lowerdir=/l2:/l1,upperdir=/u,workdir=/w,uuid=on")
	fmt.Println(l.Lower, l.Upper, l.Work)
	// Output: [/l2 /l1] /u /w
}
