package mount_test

import (
	"fmt"

	"github.com/lab-edu/lab/kernel/mount"
)

// A mount is a value: build it, read it, then call Mount (as root).
func ExampleMount() {
	m := mount.Mount{Source: "lab-tmp", Target: "/mnt/scratch", FSType: "tmpfs", Data: "size=16m"}
	fmt.Println(m.FSType, m.Source, "on", m.Target, "with", m.Data)
	// Output: tmpfs lab-tmp on /mnt/scratch with size=16m
}

// Unmount mounts deepest first.
func ExampleDeepest() {
	fmt.Println(mount.Deepest([]string{"/w", "/w/rootfs", "/w/rootfs/proc"}))
	// Output: [/w/rootfs/proc /w/rootfs /w]
}
