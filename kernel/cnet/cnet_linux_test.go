package cnet

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"slices"
	"testing"

	"github.com/lab-edu/lab/kernel/netdev"
)

// Two containers on the bridge reach each other by address, and each sees
// the other's own address (no NAT between containers).
func TestTwoContainersReachEachOther(t *testing.T) {
	needHost(t)
	root := t.TempDir()
	a, b := newContainer(t), newContainer(t)
	epA, epB := attach(t, root, a), attach(t, root, b)
	if epA.Addr == epB.Addr {
		t.Fatalf("both containers got %s", epA.Addr)
	}
	for _, ep := range []Endpoint{epA, epB} {
		if !Subnet.Contains(ep.Addr.Addr()) || ep.Addr.Bits() != 16 || ep.Gateway != Gateway {
			t.Fatalf("endpoint %+v: want an address of %s/16 and gateway %s", ep, Subnet, Gateway)
		}
	}
	checkInside(t, a, epA)

	serve(t, a, "a", netip.MustParseAddrPort("0.0.0.0:80"))
	serve(t, b, "b", netip.MustParseAddrPort("0.0.0.0:80"))
	mustAsk(t, "b", b, netip.AddrPortFrom(epA.Addr.Addr(), 80), "a sees "+epB.Addr.Addr().String())
	mustAsk(t, "a", a, netip.AddrPortFrom(epB.Addr.Addr(), 80), "b sees "+epA.Addr.Addr().String())
	// And the host reaches them through lab0.
	mustAsk(t, "host", nil, netip.AddrPortFrom(epA.Addr.Addr(), 80), "a sees "+Gateway.String())
}

// checkInside reads the container's namespace the way `ip addr; ip route`
// would inside it.
func checkInside(t *testing.T, ns *os.File, ep Endpoint) {
	t.Helper()
	in, err := netdev.OpenNamespace(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	links, err := in.LinkSummaries()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range links {
		names = append(names, l.Name)
		if !l.Up {
			t.Errorf("%s is down inside the container", l.Name)
		}
	}
	if slices.Sort(names); !slices.Equal(names, []string{"eth0", "lo"}) {
		t.Errorf("links inside: %v, want [eth0 lo]", names)
	}
	addrs, err := in.Addrs("eth0")
	if err != nil || !slices.Equal(addrs, []netip.Prefix{ep.Addr}) {
		t.Errorf("eth0 addresses: %v (%v), want [%s]", addrs, err, ep.Addr)
	}
	routes, err := in.Routes()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(routes, func(r netdev.Route) bool { return r.IsDefault() && r.Gateway == Gateway && r.Dev == "eth0" }) {
		t.Errorf("routes inside: %v, want default via %s dev eth0", routes, Gateway)
	}
	// The host end is a port of lab0, labelled for its container.
	host, err := netdev.OpenHost()
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	hl, err := host.LinkSummaries()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(hl, func(l netdev.LinkSummary) bool { return l.Name == ep.HostVeth })
	if i < 0 || hl[i].MasterIndex != bridgeIndex(hl) || !hl[i].Up {
		t.Fatalf("host end %s: not an up port of %s", ep.HostVeth, Bridge)
	}
	if addr, id, _, ok := parseAlias(hl[i].Alias); !ok || addr != ep.Addr.Addr() || id != ep.ID {
		t.Errorf("alias of %s: %q", ep.HostVeth, hl[i].Alias)
	}
}

// A container's connection to the outside leaves masqueraded: the outside,
// which has no route back to 10.88.0.0/16, sees the host's address and can
// answer.
func TestNATOut(t *testing.T) {
	needHost(t)
	root := t.TempDir()
	o := newOutside(t)
	srv := serve(t, o.ns, "outside", netip.AddrPortFrom(o.addr, 0))
	c := newContainer(t)
	attach(t, root, c)
	mustAsk(t, "container", c, srv, "outside sees "+o.hostAddr.String())
}

// -p HOSTPORT:80 works from everywhere the acceptance names: the host
// itself (127.0.0.1, the gateway address, its address on another network),
// another container, the container itself through the host (hairpin), and
// another machine (the outside namespace).
func TestPublishedPort(t *testing.T) {
	needHost(t)
	root := t.TempDir()
	o := newOutside(t)
	web, other := newContainer(t), newContainer(t)
	hp := freePort(t)
	epWeb := attach(t, root, web, Port{HostPort: hp, ContainerPort: 80, Proto: "tcp"})
	epOther := attach(t, root, other)
	serve(t, web, "web", netip.MustParseAddrPort("0.0.0.0:80"))
	at := func(a netip.Addr) netip.AddrPort { return netip.AddrPortFrom(a, hp) }
	gw := Gateway.String()

	// From the host: the loopback, the gateway, the host's own address
	// on the outside network. Connections to 127.0.0.1 leave through lab0
	// masqueraded as the gateway.
	mustAsk(t, "host", nil, at(netip.MustParseAddr("127.0.0.1")), "web sees "+gw)
	mustAsk(t, "host", nil, at(Gateway), "web sees "+gw)
	mustAsk(t, "host", nil, at(o.hostAddr), "web sees "+o.hostAddr.String())
	// From another container and from itself, through the gateway: both
	// masqueraded so the answer goes back through the host.
	mustAsk(t, "other container", other, at(Gateway), "web sees "+gw)
	mustAsk(t, "the container itself", web, at(Gateway), "web sees "+gw)
	mustAsk(t, "other container", other, at(o.hostAddr), "web sees "+gw)
	// From another machine: not masqueraded, the container sees it.
	mustAsk(t, "outside", o.ns, at(o.hostAddr), "web sees "+o.addr.String())

	// The rules carry the container's mark, in PREROUTING and OUTPUT.
	rules, err := netdev.TableRules("nat")
	if err != nil {
		t.Fatal(err)
	}
	var chains []string
	for _, r := range rules {
		if id12, ok := isContainerRule(r); ok && id12 == shortID(epWeb.ID) {
			chains = append(chains, r.Chain)
		}
	}
	if slices.Sort(chains); !slices.Equal(chains, []string{"OUTPUT", "PREROUTING"}) {
		t.Errorf("rules of %s in chains %v, want OUTPUT and PREROUTING", shortID(epWeb.ID), chains)
	}
	_ = epOther
}

// A host port already published, or held by a program of the host, is
// refused with ErrPortInUse, and nothing is created.
func TestPortAlreadyPublished(t *testing.T) {
	needHost(t)
	root := t.TempDir()
	ctx := context.Background()
	hp := freePort(t)
	first := newContainer(t)
	attach(t, root, first, Port{HostPort: hp, ContainerPort: 80, Proto: "tcp"})

	// A listener of the host on another port.
	held := serve(t, nil, "host", netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), 0))

	cases := []struct {
		name  string
		ports []Port
	}{
		{"published by a container", []Port{{HostPort: hp, ContainerPort: 8080, Proto: "tcp"}}},
		{"published on one address", []Port{{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: hp, ContainerPort: 80, Proto: "tcp"}}},
		{"held by a host socket", []Port{{HostPort: held.Port(), ContainerPort: 80, Proto: "tcp"}}},
		{"asked twice", []Port{{HostPort: hp + 1, ContainerPort: 80, Proto: "tcp"}, {HostPort: hp + 1, ContainerPort: 81, Proto: "tcp"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := hostState(t)
			leasesBefore, _ := listLeases(root)
			if err := CheckPorts(ctx, root, tc.ports); !errors.Is(err, ErrPortInUse) {
				t.Errorf("CheckPorts: %v, want ErrPortInUse", err)
			}
			ns := newContainer(t)
			_, err := Attach(ctx, root, newID(t), int(ns.Fd()), tc.ports)
			if !errors.Is(err, ErrPortInUse) {
				t.Fatalf("Attach: %v, want ErrPortInUse", err)
			}
			t.Log(err)
			for _, item := range hostState(t) {
				if !slices.Contains(before, item) {
					t.Errorf("created: %s", item)
				}
			}
			if leases, _ := listLeases(root); len(leases) != len(leasesBefore) {
				t.Errorf("leases: %d before, %d after", len(leasesBefore), len(leases))
			}
		})
	}
	// An address the host does not have is a mistake, not a clash.
	notHere := []Port{{HostIP: netip.MustParseAddr("192.0.2.1"), HostPort: freePort(t), ContainerPort: 80, Proto: "tcp"}}
	if err := CheckPorts(ctx, root, notHere); err == nil || errors.Is(err, ErrPortInUse) {
		t.Errorf("CheckPorts(%s): %v, want an error that is not ErrPortInUse", notHere[0], err)
	}
	// The same port over UDP is another port.
	udp := newContainer(t)
	attach(t, root, udp, Port{HostPort: hp, ContainerPort: 53, Proto: "udp"})
}

// hostState lists the host's links and the nat rules, to see that a
// refused Attach created nothing.
func hostState(t *testing.T) []string {
	t.Helper()
	host, err := netdev.OpenHost()
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	links, err := host.LinkSummaries()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range links {
		out = append(out, "link "+l.Name)
	}
	rules, err := netdev.TableRules("nat")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rules {
		out = append(out, r.String())
	}
	slices.Sort(out)
	return out
}

// "none": only lo, up.
func TestNoneMode(t *testing.T) {
	kerneltestRoot(t)
	ns := newContainer(t)
	if err := SetupLoopback(int(ns.Fd())); err != nil {
		t.Fatal(err)
	}
	in, err := netdev.OpenNamespace(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	links, err := in.LinkSummaries()
	if err != nil {
		t.Fatal(err)
	}
	if len(links) != 1 || links[0].Name != "lo" || !links[0].Up {
		t.Fatalf("links: %+v, want lo up alone", links)
	}
}

// Attach refuses what is not a network namespace.
func TestAttachNotANamespace(t *testing.T) {
	kerneltestRoot(t)
	f, err := os.Open("/proc/self/ns/uts")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := Attach(context.Background(), t.TempDir(), newID(t), int(f.Fd()), nil); err == nil {
		t.Fatal("Attach accepted a uts namespace")
	}
}
