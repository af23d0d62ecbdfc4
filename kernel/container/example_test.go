package container_test

import (
	"context"
	"fmt"
	"os"

	"github.com/lab-edu/lab/kernel/container"
)

// ParseMemory reads docker's --memory sizes.
func ExampleParseMemory() {
	n, _ := container.ParseMemory("64m")
	fmt.Println(n)
	_, err := container.ParseMemory("64x")
	fmt.Println(err)
	// Output:
	// 67108864
	// container: memory "64x": want a positive size like 64m (units b, k, m, g)
}

// Run is `lab run --rm --net none --memory 64m busybox echo hello`: the
// state directory must hold the busybox image (lab image import-busybox).
func ExampleRun() {
	spec := container.Spec{Image: "busybox", Cmd: []string{"echo", "hello"}, Net: container.NetNone,
		Memory: 64 << 20, Remove: true}
	code, err := container.Run(context.Background(), "/var/lib/lab", spec,
		container.Stdio{Out: os.Stdout, Err: os.Stderr})
	fmt.Println(code, err)
}

// A detached container, then what docker stop and docker rm do.
func ExampleContainer_Start() {
	ctx := context.Background()
	c, err := container.Create(ctx, "/var/lib/lab", container.Spec{Image: "busybox", Name: "web",
		Cmd: []string{"httpd", "-f", "-p", "80"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := c.Start(ctx); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Name, c.State.Status, c.State.IP)
	_ = c.Stop(ctx, 10e9)
	_ = c.Remove(ctx, false)
}
