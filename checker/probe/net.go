package probe

// Probes of network namespaces, links, addresses and real TCP traffic.
// They read the kernel through kernel/netns and kernel/netdev (netlink
// handles opened inside each namespace); the traffic probes add their own
// short-lived listener and connection and remove them before returning.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"strings"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/kernel/netdev"
	"github.com/lab-edu/lab/kernel/netns"
)

// nsLabel names a namespace for a learner: "the host" or "lab-red".
func nsLabel(ns string) string {
	if ns == "" {
		return "the host"
	}
	return ns
}

// ipN is the `ip` option that selects ns ("" for the host).
func ipN(ns string) string {
	if ns == "" {
		return "ip"
	}
	return "ip -n " + ns
}

// execIn is the command prefix that runs a program in ns.
func execIn(ns string) string {
	if ns == "" {
		return ""
	}
	return "ip netns exec " + ns + " "
}

// NetnsNamed passes when /run/netns/NAME is a named network namespace as
// `ip netns add` makes it: a bind mount of a namespace file (nsfs), not a
// plain file or directory someone created there.
func NetnsNamed(name string) checker.Check {
	title := "network namespace " + name
	return func(ctx context.Context, h checker.Host) checker.Result {
		path := netns.Path(name)
		ok, err := netns.IsNetns(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return checker.Mismatch(title, path+" (a namespace bind mount)", "no such file",
				"create it with: ip netns add "+name)
		case err != nil:
			return checker.Errored(title, err)
		case !ok:
			return checker.Failed(title,
				path+" exists but is not a network namespace: statfs says it is not nsfs (a plain file?)",
				"a namespace is made by the kernel, not by touch: rm "+path+" && ip netns add "+name)
		}
		return checker.Passed(title, path+" is an nsfs bind mount")
	}
}

// findLink reads one link of ns, or returns the failing result.
func findLink(title, ns, link string) (netdev.Link, *checker.Result) {
	l, err := netdev.LinkByName(ns, link)
	if errors.Is(err, netdev.ErrNoLink) {
		r := checker.Failed(title, "no link named "+link+" in "+nsLabel(ns),
			"list the links with: "+ipN(ns)+" link")
		return l, &r
	}
	if err != nil {
		r := checker.Errored(title, err)
		return l, &r
	}
	return l, nil
}

// LinkUp passes when link exists in ns and is administratively up
// (IFF_UP), whatever its carrier.
func LinkUp(ns, link string) checker.Check {
	title := link + " set up in " + nsLabel(ns)
	return func(ctx context.Context, h checker.Host) checker.Result {
		l, bad := findLink(title, ns, link)
		if bad != nil {
			return *bad
		}
		if !l.Up {
			return checker.Mismatch(title, link+" UP", link+" DOWN in "+nsLabel(ns),
				"set it up: "+ipN(ns)+" link set "+link+" up")
		}
		return checker.Passed(title, link+" is up")
	}
}

// LinkRunning passes when link exists in ns, is administratively up, and
// the kernel reports it operational (a veth whose peer is down is not).
func LinkRunning(ns, link string) checker.Check {
	title := link + " up in " + nsLabel(ns)
	return func(ctx context.Context, h checker.Host) checker.Result {
		l, bad := findLink(title, ns, link)
		if bad != nil {
			return *bad
		}
		switch {
		case !l.Up:
			return checker.Mismatch(title, link+" UP", link+" DOWN in "+nsLabel(ns),
				"set it up: "+ipN(ns)+" link set "+link+" up")
		case !l.Running():
			return checker.Mismatch(title, link+" operational", "state "+strings.ToUpper(l.OperState)+" (no carrier)",
				"a veth carries packets only when both ends are up: set its peer up too")
		}
		return checker.Passed(title, fmt.Sprintf("%s is up, state %s", link, l.OperState))
	}
}

// VethPeers passes when link a in nsA and link b in nsB are the two ends
// of one veth pair: a's peer ifindex and peer namespace id (IFLA_LINK,
// IFLA_LINK_NETNSID) lead to b.
func VethPeers(nsA, a, nsB, b string) checker.Check {
	title := "veth " + a + " (" + nsLabel(nsA) + ") <-> " + b + " (" + nsLabel(nsB) + ")"
	return func(ctx context.Context, h checker.Host) checker.Result {
		la, bad := findLink(title, nsA, a)
		if bad != nil {
			if onHost, _ := netdev.LinkByName("", a); onHost.Name == a && nsA != "" {
				return checker.Mismatch(title, a+" in "+nsA, a+" on the host",
					"move it: ip link set "+a+" netns "+nsA)
			}
			return *bad
		}
		if la.Type != "veth" {
			return checker.Mismatch(title, a+" of type veth", a+" of type "+la.Type,
				"delete it and create a pair: ip link add "+a+" type veth peer name "+b)
		}
		if _, bad := findLink(title, nsB, b); bad != nil {
			if onHost, _ := netdev.LinkByName("", b); onHost.Name == b && nsB != "" {
				return checker.Mismatch(title, b+" in "+nsB, b+" still on the host",
					"move it: ip link set "+b+" netns "+nsB)
			}
			return *bad
		}
		peer, err := netdev.PeerOf(nsA, a)
		if err != nil {
			return checker.Errored(title, err)
		}
		want := netdev.Peer{Netns: nsB, Name: b}
		if !peer.Known || peer.Netns != want.Netns || peer.Name != want.Name {
			found := "an end in a namespace lab cannot name"
			if peer.Known {
				found = peer.Name + " in " + nsLabel(peer.Netns)
			}
			return checker.Mismatch(title, "the peer of "+a+" to be "+b+" in "+nsLabel(nsB), found,
				a+" and "+b+" must be the two ends of one pair: ip link add "+a+" type veth peer name "+b)
		}
		return checker.Passed(title, fmt.Sprintf("%s's peer is ifindex %d in %s (%s)", a, peer.Index, nsLabel(nsB), b))
	}
}

// SameSubnet passes when link a in nsA and link b in nsB each have an IPv4
// address, in one subnet, and not the same address.
func SameSubnet(nsA, a, nsB, b string) checker.Check {
	title := "addresses of " + a + " and " + b
	return func(ctx context.Context, h checker.Host) checker.Result {
		la, bad := findLink(title, nsA, a)
		if bad != nil {
			return *bad
		}
		lb, bad := findLink(title, nsB, b)
		if bad != nil {
			return *bad
		}
		pa, pb := la.IPv4(), lb.IPv4()
		for _, side := range []struct {
			ns, name string
			got      []netip.Prefix
		}{{nsA, a, pa}, {nsB, b, pb}} {
			if len(side.got) == 0 {
				return checker.Mismatch(title, "an IPv4 address on "+side.name, "none",
					"add one: "+ipN(side.ns)+" addr add ADDRESS/24 dev "+side.name)
			}
		}
		for _, x := range pa {
			for _, y := range pb {
				if x.Addr() == y.Addr() {
					return checker.Failed(title, fmt.Sprintf("%s and %s both have %s", a, b, x.Addr()),
						"give each end its own address in the subnet")
				}
				if netdev.SameSubnet(x, y) {
					return checker.Passed(title, fmt.Sprintf("%s on %s, %s on %s: subnet %s", x, a, y, b, x.Masked()))
				}
			}
		}
		return checker.Failed(title,
			fmt.Sprintf("%s on %s and %s on %s are in different subnets (%s and %s)", pa[0], a, pb[0], b, pa[0].Masked(), pb[0].Masked()),
			"without a router, two ends talk only inside one subnet: use two addresses of the same /24")
	}
}

// BridgePort passes when link (in the host) is a port of bridge.
func BridgePort(bridge, link string) checker.Check {
	title := link + " is a port of " + bridge
	return func(ctx context.Context, h checker.Host) checker.Result {
		l, bad := findLink(title, "", link)
		if bad != nil {
			return *bad
		}
		if l.Master != bridge {
			found := link + " is not a port of any bridge"
			if l.Master != "" {
				found = link + " is a port of " + l.Master
			}
			return checker.Mismatch(title, link+" master "+bridge, found,
				"enslave it: ip link set "+link+" master "+bridge)
		}
		return checker.Passed(title, link+" master "+bridge)
	}
}

// IsBridge passes when name is a bridge in the host, up.
func IsBridge(name string) checker.Check {
	title := "bridge " + name
	return func(ctx context.Context, h checker.Host) checker.Result {
		l, bad := findLink(title, "", name)
		if bad != nil {
			return *bad
		}
		if l.Type != "bridge" {
			return checker.Mismatch(title, name+" of type bridge", name+" of type "+l.Type,
				"ip link del "+name+" && ip link add "+name+" type bridge")
		}
		if !l.Up {
			return checker.Mismatch(title, name+" UP", name+" DOWN", "ip link set "+name+" up")
		}
		return checker.Passed(title, name+" is a bridge and up")
	}
}
