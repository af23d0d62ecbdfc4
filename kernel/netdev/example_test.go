package netdev_test

import (
	"fmt"
	"net/netip"

	"github.com/lab-edu/lab/kernel/netdev"
)

// The rule Docker adds for its bridge, as lab builds it.
func ExampleMasquerade() {
	r := netdev.Masquerade(netip.MustParsePrefix("10.200.2.0/24"), "lab-br0")
	fmt.Println(r)
	// Output: iptables -t nat -A POSTROUTING -s 10.200.2.0/24 ! -o lab-br0 -j MASQUERADE
}

// `docker run -p 8080:80` in one rule.
func ExamplePublishPort() {
	fmt.Println(netdev.PublishPort(8080, netip.MustParseAddrPort("10.200.2.3:80")))
	// Output: iptables -t nat -A PREROUTING -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.200.2.3:80
}

func ExampleSameSubnet() {
	a := netip.MustParsePrefix("10.200.1.1/24")
	b := netip.MustParsePrefix("10.200.2.2/24")
	fmt.Println(netdev.SameSubnet(a, b))
	// Output: false
}
