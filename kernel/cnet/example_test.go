package cnet_test

import (
	"fmt"

	"github.com/lab-edu/lab/kernel/cnet"
)

// `lab run -p 127.0.0.1:8080:80 ...` reads its -p values with ParsePort.
func ExampleParsePort() {
	p, err := cnet.ParsePort("127.0.0.1:8080:80")
	if err != nil {
		panic(err)
	}
	fmt.Println(p.HostIP, p.HostPort, p.ContainerPort, p.Proto)
	_, err = cnet.ParsePort("8080")
	fmt.Println(err)
	// Output:
	// 127.0.0.1 8080 80 tcp
	// invalid port "8080": need a host port and a container port (use HOSTPORT:CTRPORT[/tcp|udp], e.g. 8080:80)
}

// The host end of a container's veth is named after the container.
func ExampleHostVethName() {
	fmt.Println(cnet.HostVethName("3f2a9c0d1e4b5a6978877665544332211"))
	// Output: labv3f2a9c0d1e4
}
