package netnslab

import (
	"context"
	"errors"
	"time"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/checker/probe"
	"github.com/lab-edu/lab/kernel/netdev"
	"github.com/lab-edu/lab/steps"
)

// AddressStep: addresses on both ends, links up, and real traffic.
var AddressStep = steps.Step{
	ID:    "netns/address",
	Title: "Addresses, links up, and packets between the namespaces",
	Check: checker.All("lab-red and lab-blue talk over the veth",
		probe.VethPeers(red, redVeth, blue, blueVeth),
		probe.SameSubnet(red, redVeth, blue, blueVeth),
		probe.LinkUp(red, redVeth), probe.LinkUp(blue, blueVeth),
		probe.LinkRunning(red, redVeth), probe.LinkRunning(blue, blueVeth),
		reachOverVeth),
	Solve: func(ctx context.Context, env *steps.Env) error {
		return run(
			func() error { return ignoreExist(netdev.AddAddr(red, redVeth, redAddr)) },
			func() error { return ignoreExist(netdev.AddAddr(blue, blueVeth, blueAddr)) },
			func() error { return netdev.SetUp(red, redVeth) },
			func() error { return netdev.SetUp(blue, blueVeth) },
			func() error { return netdev.WaitRunning(red, redVeth, time.Second) },
		)
	},
	Cleanup: func(ctx context.Context, env *steps.Env) error {
		return errors.Join(
			ignoreMissingNetns(red, func() error { return netdev.DelAddr(red, redVeth, redAddr) }),
			ignoreMissingNetns(blue, func() error { return netdev.DelAddr(blue, blueVeth, blueAddr) }))
	},
}

// reachOverVeth runs the traffic probe between the addresses the learner
// chose: the first pair of IPv4 addresses in one subnet.
func reachOverVeth(ctx context.Context, h checker.Host) checker.Result {
	a, err := netdev.LinkByName(red, redVeth)
	if err != nil {
		return checker.Errored("traffic over the veth", err)
	}
	b, err := netdev.LinkByName(blue, blueVeth)
	if err != nil {
		return checker.Errored("traffic over the veth", err)
	}
	for _, x := range a.IPv4() {
		for _, y := range b.IPv4() {
			if netdev.SameSubnet(x, y) {
				return probe.Reach(probe.Endpoint{Netns: red, Addr: x.Addr()}, probe.Endpoint{Netns: blue, Addr: y.Addr()})(ctx, h)
			}
		}
	}
	return checker.Failed("traffic over the veth", "no pair of addresses in one subnet", "see the addresses step")
}
