package netns_test

import (
	"fmt"

	"github.com/lab-edu/lab/kernel/netns"
)

func ExamplePath() {
	fmt.Println(netns.Path("lab-red"))
	// Output: /run/netns/lab-red
}

// Do runs Go code inside a named namespace, like `ip netns exec`.
func ExampleDo() {
	if err := netns.CreateNamed("lab-example"); err != nil {
		fmt.Println(err)
		return
	}
	defer netns.DeleteNamed("lab-example")
	_ = netns.Do("lab-example", func() error {
		// Sockets created here belong to lab-example.
		return nil
	})
}
