package netnslab

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/checker/probe"
	"github.com/lab-edu/lab/kernel/netdev"
	"github.com/lab-edu/lab/steps"
)

// BridgeStep: a bridge on the host joining three namespaces.
var BridgeStep = steps.Step{
	ID:    "netns/bridge",
	Title: "A bridge joining three namespaces",
	Check: bridgeCheck(),
	Solve: func(ctx context.Context, env *steps.Env) error {
		if err := run(
			func() error { return ignoreExist(netdev.AddBridge(bridge)) },
			func() error { return netdev.SetUp("", bridge) },
			func() error { return createNamed(green) },
			func() error { return netdev.SetUp(green, "lo") },
		); err != nil {
			return err
		}
		for _, c := range colors {
			if err := run(
				func() error { return addVethBetween("", hostEnd(c), c, nsEnd(c)) },
				func() error { return netdev.SetMaster(hostEnd(c), bridge) },
				func() error { return netdev.SetUp("", hostEnd(c)) },
				func() error { return ignoreExist(netdev.AddAddr(c, nsEnd(c), bridgeAddr[c])) },
				func() error { return netdev.SetUp(c, nsEnd(c)) },
			); err != nil {
				return err
			}
		}
		for _, c := range colors {
			if err := netdev.WaitRunning(c, nsEnd(c), time.Second); err != nil {
				return err
			}
		}
		return nil
	},
	Cleanup: func(ctx context.Context, env *steps.Env) error {
		errs := []error{deleteNamed(green)}
		for _, c := range colors {
			errs = append(errs, netdev.DeleteLink("", hostEnd(c)), netdev.DeleteLink("", nsEnd(c)))
		}
		return errors.Join(append(errs, netdev.DeleteLink("", bridge))...)
	},
}

func bridgeCheck() checker.Check {
	checks := []checker.Check{probe.IsBridge(bridge), probe.NetnsNamed(green)}
	for _, c := range colors {
		checks = append(checks,
			probe.VethPeers("", hostEnd(c), c, nsEnd(c)),
			probe.BridgePort(bridge, hostEnd(c)),
			probe.LinkUp("", hostEnd(c)),
			probe.LinkUp(c, nsEnd(c)))
	}
	for _, c := range colors {
		checks = append(checks, probe.LinkRunning("", hostEnd(c)), probe.LinkRunning(c, nsEnd(c)))
	}
	checks = append(checks, bridgeTraffic)
	return checker.All("three namespaces on bridge lab-br0", checks...)
}

// bridgeTraffic checks that the three ends share a subnet, then proves
// every pair talks through the bridge, both ways.
func bridgeTraffic(ctx context.Context, h checker.Host) checker.Result {
	const title = "traffic across lab-br0"
	addrs := map[string]netip.Prefix{}
	for _, c := range colors {
		l, err := netdev.LinkByName(c, nsEnd(c))
		if err != nil {
			return checker.Errored(title, err)
		}
		v4 := l.IPv4()
		if len(v4) == 0 {
			return checker.Mismatch(title, "an IPv4 address on "+nsEnd(c)+" in "+c, "none",
				fmt.Sprintf("ip -n %s addr add %s dev %s", c, bridgeAddr[c], nsEnd(c)))
		}
		addrs[c] = v4[0]
	}
	for _, c := range colors[1:] {
		if !netdev.SameSubnet(addrs[red], addrs[c]) {
			return checker.Failed(title,
				fmt.Sprintf("%s on %s and %s on %s are in different subnets", addrs[red], nsEnd(red), addrs[c], nsEnd(c)),
				"a bridge joins one link-layer network: give the three ends addresses of one subnet, such as "+bridgeNet.String())
		}
	}
	var evidence []string
	for i, a := range colors {
		for _, b := range colors[i+1:] {
			r := probe.Reach(probe.Endpoint{Netns: a, Addr: addrs[a].Addr()}, probe.Endpoint{Netns: b, Addr: addrs[b].Addr()})(ctx, h)
			if !r.OK() {
				r.Hint = forwardDropHint() + r.Hint
				return r
			}
			evidence = append(evidence, r.Evidence...)
		}
	}
	return checker.Passed(title, evidence...)
}
