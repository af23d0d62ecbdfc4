package netdev

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/lab-edu/lab/kernel/netns"
)

// Namespace configures the links of a network namespace given by an open
// file (a container's /proc/PID/ns/net, an anonymous namespace of
// netns.NewAnonymous) rather than by a name of /run/netns. It holds one
// netlink socket created inside that namespace, so a series of changes
// costs one thread switch in all, not one per call.
//
// Equivalent to: `nsenter --net=FILE ip ...`.
type Namespace struct {
	h     *netlink.Handle
	name  string
	links map[string]netlink.Link // looked up once: the handle is short-lived
}

// OpenNamespace opens a netlink handle inside the namespace of file ns.
// The caller may close ns afterwards: the socket keeps its namespace.
func OpenNamespace(ns *os.File) (*Namespace, error) {
	var h *netlink.Handle
	err := netns.DoFile(ns, func() error {
		var err error
		h, err = netlink.NewHandle(unix.NETLINK_ROUTE)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("netlink handle in netns %s: %w", ns.Name(), err)
	}
	return &Namespace{h: h, name: ns.Name(), links: map[string]netlink.Link{}}, nil
}

// OpenHost opens a netlink handle in the caller's namespace, the host's
// for lab, to make a series of requests through one socket.
func OpenHost() (*Namespace, error) {
	h, err := netns.Handle("")
	if err != nil {
		return nil, fmt.Errorf("netlink handle in host: %w", err)
	}
	return &Namespace{h: h, links: map[string]netlink.Link{}}, nil
}

// Links lists the namespace's links with their addresses.
//
// Equivalent to: `nsenter --net=FILE ip address show`.
func (n *Namespace) Links() ([]Link, error) {
	links, err := linksOf(n.h)
	if err != nil {
		return nil, fmt.Errorf("list links in %s: %w", n.where(), err)
	}
	return links, nil
}

// Close releases the netlink socket.
func (n *Namespace) Close() { n.h.Close() }

func (n *Namespace) where() string { return where(n.name) }

// link looks a link up by name, once per handle: the requests that follow
// name it by its index.
func (n *Namespace) link(name string) (netlink.Link, error) {
	if l, ok := n.links[name]; ok {
		return l, nil
	}
	l, err := n.h.LinkByName(name)
	var nf netlink.LinkNotFoundError
	if errors.As(err, &nf) {
		return nil, fmt.Errorf("link %s in %s: %w", name, n.where(), ErrNoLink)
	}
	if err == nil {
		n.links[name] = l
	}
	return l, err
}

// SetUp sets link up (IFF_UP).
//
// Equivalent to: `ip link set LINK up`, inside the namespace.
func (n *Namespace) SetUp(link string) error {
	l, err := n.link(link)
	if err != nil {
		return err
	}
	if err := n.h.LinkSetUp(l); err != nil {
		return fmt.Errorf("set %s up in %s: %w", link, n.where(), err)
	}
	return nil
}

// AddAddr adds an address with its prefix length to link.
//
// Equivalent to: `ip address add PREFIX dev LINK`, inside the namespace.
func (n *Namespace) AddAddr(link string, p netip.Prefix) error {
	l, err := n.link(link)
	if err != nil {
		return err
	}
	a := &netlink.Addr{IPNet: &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}}
	if err := n.h.AddrAdd(l, a); err != nil {
		return fmt.Errorf("add %s to %s in %s: %w", p, link, n.where(), err)
	}
	return nil
}

// AddDefaultRoute sends everything without a more specific route to gw.
//
// Equivalent to: `ip route add default via GW`, inside the namespace.
func (n *Namespace) AddDefaultRoute(gw netip.Addr) error {
	if err := n.h.RouteAdd(&netlink.Route{Gw: gw.AsSlice()}); err != nil {
		return fmt.Errorf("add default route via %s in %s: %w", gw, n.where(), err)
	}
	return nil
}

// WaitRunning waits until link is operational (see the package-level
// WaitRunning), polling every 250 µs, for at most timeout.
func (n *Namespace) WaitRunning(link string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		l, err := n.h.LinkByName(link)
		if err != nil {
			return fmt.Errorf("link %s in %s: %w", link, n.where(), err)
		}
		a := l.Attrs()
		if a.Flags&net.FlagUp != 0 && (a.OperState == netlink.OperUp || a.OperState == netlink.OperUnknown) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("link %s in %s: not running after %v (state %s)", link, n.where(), timeout, a.OperState)
		}
		time.Sleep(250 * time.Microsecond)
	}
}

// Routes lists the IPv4 routes of the main table.
//
// Equivalent to: `ip route show`, inside the namespace.
func (n *Namespace) Routes() ([]Route, error) {
	routes, err := routesOf(n.h)
	if err != nil {
		return nil, fmt.Errorf("list routes in %s: %w", n.where(), err)
	}
	return routes, nil
}
