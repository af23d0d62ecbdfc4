package netnslab

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/checker/probe"
	"github.com/lab-edu/lab/kernel/netdev"
	"github.com/lab-edu/lab/steps"
)

// NATStep: a default route and masquerading, checked against an outside
// network the check builds for itself.
var NATStep = steps.Step{
	ID:    "netns/nat",
	Title: "A default route and NAT to reach the outside",
	Check: checker.All("lab-red reaches the outside, masqueraded",
		defaultRoute(red), hostForwards, masqueradedToOutside),
	Solve: func(ctx context.Context, env *steps.Env) error {
		if err := recordForwarding(env); err != nil {
			return err
		}
		return run(
			func() error { return ignoreExist(netdev.AddAddr("", bridge, gatewayIP)) },
			func() error { return ignoreExist(netdev.AddDefaultRoute(red, gatewayIP.Addr())) },
			func() error { return netdev.SetForwarding("", true) },
			func() error { return netdev.AddRule(netdev.Masquerade(bridgeNet, bridge)) },
		)
	},
	Cleanup: func(ctx context.Context, env *steps.Env) error {
		return errors.Join(
			deleteLabRules([2]string{"nat", "POSTROUTING"}),
			restoreForwarding(env),
			netdev.DelAddr("", bridge, gatewayIP))
	},
}

// defaultRoute passes when ns has a default route.
func defaultRoute(ns string) checker.Check {
	title := "default route in " + ns
	return func(ctx context.Context, h checker.Host) checker.Result {
		routes, err := netdev.Routes(ns)
		if err != nil {
			return checker.Errored(title, err)
		}
		for _, r := range routes {
			if r.IsDefault() {
				return checker.Passed(title, r.String())
			}
		}
		return checker.Mismatch(title, "a default route in "+ns, "none: "+ns+" only reaches its own subnets",
			fmt.Sprintf("send the rest to the bridge's address: ip addr add %s dev %s; ip -n %s route add default via %s",
				gatewayIP, bridge, ns, gatewayIP.Addr()))
	}
}

// hostForwards passes when the host routes packets between interfaces.
func hostForwards(ctx context.Context, h checker.Host) checker.Result {
	const title = "IP forwarding on the host"
	on, err := netdev.Forwarding("")
	if err != nil {
		return checker.Errored(title, err)
	}
	if !on {
		return checker.Mismatch(title, "net.ipv4.ip_forward = 1", "net.ipv4.ip_forward = 0: the host drops packets that are not for itself",
			"echo 1 > /proc/sys/net/ipv4/ip_forward (or sysctl -w net.ipv4.ip_forward=1)")
	}
	return checker.Passed(title, "net.ipv4.ip_forward = 1")
}

// masqueradedToOutside builds an outside network, sends TCP from lab-red
// to it and looks at the source address that arrives.
func masqueradedToOutside(ctx context.Context, h checker.Host) checker.Result {
	const title = "lab-red reaches the outside with the host's address"
	out, err := probe.NewOutside()
	if err != nil {
		return checker.Errored(title, err)
	}
	defer out.Close()
	src, err := probe.Exchange(ctx, red, probe.Endpoint{Netns: out.Netns, Addr: out.Addr}, probe.TrafficTimeout)
	if err != nil {
		return checker.Failed(title,
			fmt.Sprintf("lab-red cannot reach %s, the check's outside network: %s", out.Addr, probe.Why(err)),
			forwardDropHint()+"check the default route of lab-red and the address of "+bridge+" (its gateway)")
	}
	if src != out.HostAddr {
		return checker.Failed(title,
			fmt.Sprintf("packets from lab-red arrived at %s with source %s, not the host's %s: they were forwarded but not masqueraded",
				out.Addr, src, out.HostAddr),
			masqueradeHint(src))
	}
	return checker.Passed(title, fmt.Sprintf("lab-red -> %s arrived from %s (the host's address on the outside link)", out.Addr, src))
}

// masqueradeHint explains why the MASQUERADE rules, if any, missed src.
func masqueradeHint(src netip.Addr) string {
	add := fmt.Sprintf("iptables -t nat -A POSTROUTING -s %s ! -o %s -j MASQUERADE", bridgeNet, bridge)
	rules, err := netdev.Rules("nat", "POSTROUTING")
	if err != nil {
		return add
	}
	for _, r := range rules {
		if r.Target() != "MASQUERADE" {
			continue
		}
		if s, ok := r.Arg("-s"); ok && !r.Negated("-s") {
			if p, err := netip.ParsePrefix(s); err == nil && !p.Contains(src) {
				return fmt.Sprintf("your rule `%s` matches -s %s, which does not contain lab-red's %s: %s", r, s, src, add)
			}
		}
		if o, ok := r.Arg("-o"); ok && !r.Negated("-o") {
			return fmt.Sprintf("your rule `%s` only masquerades packets leaving through %s; the outside may be behind any link, so exclude the bridge instead: %s", r, o, add)
		}
	}
	return "no MASQUERADE rule in the nat table's POSTROUTING chain matched: " + add
}
