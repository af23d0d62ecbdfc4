package netdev

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/lab-edu/lab/kernel/netns"
)

// where names a namespace in messages: "host" or "netns NAME".
func where(ns string) string {
	if ns == "" {
		return "host"
	}
	return "netns " + ns
}

// withHandle opens a netlink handle in ns, runs fn with it and closes it.
func withHandle(ns string, fn func(h *netlink.Handle) error) error {
	h, err := netns.Handle(ns)
	if err != nil {
		return err
	}
	defer h.Close()
	return fn(h)
}

// Links lists the links of ns with their addresses.
//
// Equivalent to: `ip -n NS address show`.
func Links(ns string) ([]Link, error) {
	var out []Link
	err := withHandle(ns, func(h *netlink.Handle) (err error) {
		out, err = linksOf(h)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list links in %s: %w", where(ns), err)
	}
	return out, nil
}

// linksOf lists the links a netlink handle sees, with their addresses.
func linksOf(h *netlink.Handle) ([]Link, error) {
	var links []netlink.Link
	var addrs []netlink.Addr
	err := retryInterrupted(func() (err error) {
		if links, err = h.LinkList(); err != nil {
			return err
		}
		addrs, err = h.AddrList(nil, netlink.FAMILY_ALL)
		return err
	})
	if err != nil {
		return nil, err
	}
	names := map[int]string{}
	for _, l := range links {
		names[l.Attrs().Index] = l.Attrs().Name
	}
	out := make([]Link, 0, len(links))
	for _, l := range links {
		out = append(out, fromNetlink(l, names, addrs))
	}
	return out, nil
}

func fromNetlink(l netlink.Link, names map[int]string, addrs []netlink.Addr) Link {
	a := l.Attrs()
	out := Link{
		Index: a.Index, Name: a.Name, Type: l.Type(), MTU: a.MTU,
		Up:          a.Flags&net.FlagUp != 0,
		OperState:   a.OperState.String(),
		MAC:         a.HardwareAddr.String(),
		MasterIndex: a.MasterIndex, Master: names[a.MasterIndex],
		PeerNetnsID: -1,
	}
	if _, ok := l.(*netlink.Veth); ok {
		out.PeerIndex = a.ParentIndex
		out.PeerNetnsID = a.NetNsID
	}
	for _, ad := range addrs {
		if ad.LinkIndex != a.Index || ad.IPNet == nil {
			continue
		}
		ip, ok := netip.AddrFromSlice(ad.IP)
		if !ok {
			continue
		}
		ones, _ := ad.Mask.Size()
		out.Addrs = append(out.Addrs, netip.PrefixFrom(ip.Unmap(), ones))
	}
	return out
}

// LinkByName returns one link of ns. A missing link is an error wrapping
// ErrNoLink.
//
// Equivalent to: `ip -n NS address show dev NAME`.
func LinkByName(ns, name string) (Link, error) {
	links, err := Links(ns)
	if err != nil {
		return Link{}, err
	}
	for _, l := range links {
		if l.Name == name {
			return l, nil
		}
	}
	return Link{}, fmt.Errorf("link %s in %s: %w", name, where(ns), ErrNoLink)
}

// Routes lists the IPv4 routes of the main table of ns.
//
// Equivalent to: `ip -n NS route show`.
func Routes(ns string) ([]Route, error) {
	var out []Route
	err := withHandle(ns, func(h *netlink.Handle) (err error) {
		out, err = routesOf(h)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list routes in %s: %w", where(ns), err)
	}
	return out, nil
}

// routesOf lists the IPv4 routes of the main table a netlink handle sees,
// with their devices by name.
func routesOf(h *netlink.Handle) ([]Route, error) {
	var routes []netlink.Route
	var links []netlink.Link
	err := retryInterrupted(func() (err error) {
		if routes, err = h.RouteList(nil, netlink.FAMILY_V4); err != nil {
			return err
		}
		links, err = h.LinkList()
		return err
	})
	if err != nil {
		return nil, err
	}
	names := map[int]string{}
	for _, l := range links {
		names[l.Attrs().Index] = l.Attrs().Name
	}
	out := make([]Route, 0, len(routes))
	for _, r := range routes {
		rt := Route{Dst: netip.PrefixFrom(netip.IPv4Unspecified(), 0), Dev: names[r.LinkIndex]}
		if r.Dst != nil {
			ip, _ := netip.AddrFromSlice(r.Dst.IP)
			ones, _ := r.Dst.Mask.Size()
			rt.Dst = netip.PrefixFrom(ip.Unmap(), ones)
		}
		if gw, ok := netip.AddrFromSlice(r.Gw); ok {
			rt.Gateway = gw.Unmap()
		}
		if src, ok := netip.AddrFromSlice(r.Src); ok {
			rt.Src = src.Unmap()
		}
		out = append(out, rt)
	}
	return out, nil
}

// TCPSockets lists the TCP sockets of ns, IPv4 and IPv6, through sock_diag.
//
// Equivalent to: `ip netns exec NS ss -tan`.
func TCPSockets(ns string) ([]Socket, error) {
	var out []Socket
	err := withHandle(ns, func(h *netlink.Handle) error {
		// Servers often listen on an IPv6 socket (":::80") that also
		// accepts IPv4, so both families are read; IPv4 peers of such a
		// socket show as ::ffff:a.b.c.d and are unmapped below.
		socks, err := h.SocketDiagTCP(unix.AF_INET)
		if err != nil {
			return err
		}
		socks6, err := h.SocketDiagTCP(unix.AF_INET6)
		if err != nil {
			return err
		}
		for _, s := range append(socks, socks6...) {
			src, _ := netip.AddrFromSlice(s.ID.Source)
			dst, _ := netip.AddrFromSlice(s.ID.Destination)
			out = append(out, Socket{
				Local:  netip.AddrPortFrom(src.Unmap(), s.ID.SourcePort),
				Remote: netip.AddrPortFrom(dst.Unmap(), s.ID.DestinationPort),
				State:  tcpState(s.State),
			})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list tcp sockets in %s: %w", where(ns), err)
	}
	return out, nil
}

// tcpState names the TCP states of include/net/tcp_states.h.
func tcpState(s uint8) string {
	names := []string{"", "established", "syn-sent", "syn-recv", "fin-wait-1", "fin-wait-2",
		"time-wait", "close", "close-wait", "last-ack", "listen", "closing"}
	if int(s) < len(names) {
		return names[s]
	}
	return fmt.Sprintf("state-%d", s)
}

// PeerOf finds the other end of veth link in ns: its namespace among the
// host and the named namespaces, and its name there. It compares the
// link's IFLA_LINK_NETNSID with the id this namespace gives each candidate
// (RTM_GETNSID), then looks the peer ifindex up in that namespace.
//
// Equivalent to: `ip -n NS -d link show LINK` ("link-netns ..." and "@peer").
func PeerOf(ns, link string) (Peer, error) {
	l, err := LinkByName(ns, link)
	if err != nil {
		return Peer{}, err
	}
	if l.Type != "veth" {
		return Peer{}, fmt.Errorf("peer of %s in %s: it is a %s, not a veth", link, where(ns), l.Type)
	}
	candidates := []string{ns}
	if l.PeerNetnsID >= 0 {
		candidates, err = namespaceWithID(ns, l.PeerNetnsID)
		if err != nil {
			return Peer{}, fmt.Errorf("peer of %s in %s: %w", link, where(ns), err)
		}
	}
	for _, c := range candidates {
		links, err := Links(c)
		if err != nil {
			continue
		}
		for _, pl := range links {
			if pl.Index == l.PeerIndex {
				return Peer{Netns: c, Name: pl.Name, Index: pl.Index, Known: true}, nil
			}
		}
	}
	return Peer{Index: l.PeerIndex}, nil
}

// namespaceWithID returns the namespaces (the host, "", and named ones)
// that ns knows under netnsid id.
func namespaceWithID(ns string, id int) ([]string, error) {
	names, err := netns.List()
	if err != nil {
		return nil, err
	}
	var out []string
	err = withHandle(ns, func(h *netlink.Handle) error {
		for _, c := range append([]string{""}, names...) {
			if c == ns {
				continue
			}
			// The host's namespace is the one of this thread: only the
			// throwaway threads of netns.Do ever leave it. (/proc/self is
			// the main thread's, which Go may have wedged in a namespace.)
			path := "/proc/thread-self/ns/net"
			if c != "" {
				path = netns.Path(c)
			}
			f, err := os.Open(path)
			if err != nil {
				continue
			}
			got, err := h.GetNetNsIdByFd(int(f.Fd()))
			f.Close()
			if err == nil && got == id {
				out = append(out, c)
			}
		}
		return nil
	})
	return out, err
}

// Show returns what ns holds: links with addresses, veth peers and routes.
//
// Equivalent to: `ip -n NS -d address; ip -n NS route`.
func Show(ns string) (State, error) {
	st := State{Netns: ns, Peers: map[string]Peer{}}
	var err error
	if st.Links, err = Links(ns); err != nil {
		return st, err
	}
	if st.Routes, err = Routes(ns); err != nil {
		return st, err
	}
	for _, l := range st.Links {
		if l.Type == "veth" {
			if p, err := PeerOf(ns, l.Name); err == nil {
				st.Peers[l.Name] = p
			}
		}
	}
	return st, nil
}

// IsExist reports whether err says the object already exists (EEXIST),
// which a reference solution may treat as done.
func IsExist(err error) bool { return errors.Is(err, unix.EEXIST) }

// AddVeth creates a veth pair in the host namespace: two links, and what
// enters one leaves the other.
//
// Equivalent to: `ip link add NAME type veth peer name PEER`.
func AddVeth(name, peer string) error {
	v := &netlink.Veth{
		LinkAttrs: netlink.LinkAttrs{Name: name, HardwareAddr: localMAC()}, PeerName: peer,
		PeerHardwareAddr: localMAC(),
	}
	if err := netlink.LinkAdd(v); err != nil {
		return fmt.Errorf("create veth %s/%s: %w", name, peer, err)
	}
	return nil
}

// AddVethPeerIn creates a veth pair whose NAME end is in the host and whose
// PEER end is created directly in the namespace of the file ns.
//
// Equivalent to: `ip link add NAME type veth peer name PEER netns NS`.
func AddVethPeerIn(name, peer string, ns *os.File) error {
	v := &netlink.Veth{
		LinkAttrs: netlink.LinkAttrs{Name: name, HardwareAddr: localMAC()}, PeerName: peer,
		PeerHardwareAddr: localMAC(), PeerNamespace: netlink.NsFd(int(ns.Fd())),
	}
	if err := netlink.LinkAdd(v); err != nil {
		return fmt.Errorf("create veth %s/%s: %w", name, peer, err)
	}
	return nil
}

// AddBridge creates a bridge in the host namespace.
//
// Equivalent to: `ip link add NAME type bridge`.
func AddBridge(name string) error {
	return AddBridgeWithMAC(name, localMAC())
}

// localMAC returns a random, locally administered unicast MAC address.
//
// AddVeth, AddVethPeerIn and AddBridge give every link they create an
// address of its own (IFLA_ADDRESS in RTM_NEWLINK), as Docker and the CNI
// plugins do. The kernel then marks it "set by userspace"
// (/sys/class/net/LINK/addr_assign_type = 3) instead of "random" (1).
// systemd-udevd, on a distribution with systemd such as the students'
// Debian VM, replaces random addresses of new links (MACAddressPolicy=
// persistent in 99-default.link) a moment after they appear: a neighbour
// that resolved the first address with ARP in that moment keeps sending
// to it, and its frames are lost. A bridge with an address of its own
// also keeps it when ports come and go, instead of taking the lowest of
// its ports' addresses.
func localMAC() net.HardwareAddr {
	mac := make(net.HardwareAddr, 6)
	_, _ = rand.Read(mac)
	mac[0] = mac[0]&^0x01 | 0x02 // clear the multicast bit, set the local bit
	return mac
}

// linkIn finds a netlink link by name through h.
func linkIn(h *netlink.Handle, ns, name string) (netlink.Link, error) {
	l, err := h.LinkByName(name)
	var nf netlink.LinkNotFoundError
	if errors.As(err, &nf) {
		return nil, fmt.Errorf("link %s in %s: %w", name, where(ns), ErrNoLink)
	}
	return l, err
}

// SetNetns moves link from ns into the named namespace target. Its
// addresses are lost and it comes back down, as with iproute2.
//
// Equivalent to: `ip -n NS link set LINK netns TARGET`.
func SetNetns(ns, link, target string) error {
	f, err := netns.Open(target)
	if err != nil {
		return fmt.Errorf("move %s to netns %s: %w", link, target, err)
	}
	defer f.Close()
	return withHandle(ns, func(h *netlink.Handle) error {
		l, err := linkIn(h, ns, link)
		if err != nil {
			return err
		}
		if err := h.LinkSetNsFd(l, int(f.Fd())); err != nil {
			return fmt.Errorf("move %s to netns %s: %w", link, target, err)
		}
		return nil
	})
}

// SetUp sets link up (IFF_UP).
//
// Equivalent to: `ip -n NS link set LINK up`.
func SetUp(ns, link string) error {
	return withHandle(ns, func(h *netlink.Handle) error {
		l, err := linkIn(h, ns, link)
		if err != nil {
			return err
		}
		if err := h.LinkSetUp(l); err != nil {
			return fmt.Errorf("set %s up in %s: %w", link, where(ns), err)
		}
		return nil
	})
}

// SetDown clears IFF_UP on link.
//
// Equivalent to: `ip -n NS link set LINK down`.
func SetDown(ns, link string) error {
	return withHandle(ns, func(h *netlink.Handle) error {
		l, err := linkIn(h, ns, link)
		if err != nil {
			return err
		}
		if err := h.LinkSetDown(l); err != nil {
			return fmt.Errorf("set %s down in %s: %w", link, where(ns), err)
		}
		return nil
	})
}

// SetMaster makes link a port of bridge (both in the host namespace).
//
// Equivalent to: `ip link set LINK master BRIDGE`.
func SetMaster(link, bridge string) error {
	return withHandle("", func(h *netlink.Handle) error {
		l, err := linkIn(h, "", link)
		if err != nil {
			return err
		}
		br, err := linkIn(h, "", bridge)
		if err != nil {
			return err
		}
		if err := h.LinkSetMasterByIndex(l, br.Attrs().Index); err != nil {
			return fmt.Errorf("enslave %s to %s: %w", link, bridge, err)
		}
		return nil
	})
}

// AddAddr adds an address with its prefix length to link.
//
// Equivalent to: `ip -n NS address add PREFIX dev LINK`.
func AddAddr(ns, link string, p netip.Prefix) error {
	return withHandle(ns, func(h *netlink.Handle) error {
		l, err := linkIn(h, ns, link)
		if err != nil {
			return err
		}
		a := &netlink.Addr{IPNet: &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}}
		if err := h.AddrAdd(l, a); err != nil {
			return fmt.Errorf("add %s to %s in %s: %w", p, link, where(ns), err)
		}
		return nil
	})
}

// DelAddr removes an address from link. A missing address or link is not
// an error.
//
// Equivalent to: `ip -n NS address del PREFIX dev LINK`.
func DelAddr(ns, link string, p netip.Prefix) error {
	return withHandle(ns, func(h *netlink.Handle) error {
		l, err := linkIn(h, ns, link)
		if errors.Is(err, ErrNoLink) {
			return nil
		}
		if err != nil {
			return err
		}
		a := &netlink.Addr{IPNet: &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}}
		if err := h.AddrDel(l, a); err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
			return fmt.Errorf("delete %s from %s in %s: %w", p, link, where(ns), err)
		}
		return nil
	})
}

// AddDefaultRoute sends everything without a more specific route to gw.
//
// Equivalent to: `ip -n NS route add default via GW`.
func AddDefaultRoute(ns string, gw netip.Addr) error {
	return withHandle(ns, func(h *netlink.Handle) error {
		r := &netlink.Route{Gw: gw.AsSlice()}
		if err := h.RouteAdd(r); err != nil {
			return fmt.Errorf("add default route via %s in %s: %w", gw, where(ns), err)
		}
		return nil
	})
}

// AddRoute sends packets for dst to the router gw.
//
// Equivalent to: `ip -n NS route add DST via GW`.
func AddRoute(ns string, dst netip.Prefix, gw netip.Addr) error {
	return withHandle(ns, func(h *netlink.Handle) error {
		r := &netlink.Route{
			Dst: &net.IPNet{IP: dst.Addr().AsSlice(), Mask: net.CIDRMask(dst.Bits(), dst.Addr().BitLen())},
			Gw:  gw.AsSlice(),
		}
		if err := h.RouteAdd(r); err != nil {
			return fmt.Errorf("add route %s via %s in %s: %w", dst, gw, where(ns), err)
		}
		return nil
	})
}

// DeleteLink deletes a link; deleting one end of a veth deletes both. A
// missing link or namespace is not an error.
//
// Equivalent to: `ip -n NS link delete NAME`.
func DeleteLink(ns, name string) error {
	if ns != "" {
		if _, err := os.Stat(netns.Path(ns)); errors.Is(err, os.ErrNotExist) {
			return nil
		}
	}
	return withHandle(ns, func(h *netlink.Handle) error {
		l, err := linkIn(h, ns, name)
		if errors.Is(err, ErrNoLink) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := h.LinkDel(l); err != nil && !errors.Is(err, unix.ENODEV) {
			return fmt.Errorf("delete link %s in %s: %w", name, where(ns), err)
		}
		return nil
	})
}

// forwardingFile is the per-namespace IPv4 forwarding switch. Files under
// /proc/sys/net answer for the network namespace of the thread that opens
// them.
const forwardingFile = "/proc/sys/net/ipv4/ip_forward"

// Forwarding reports whether ns routes packets between its interfaces.
//
// Equivalent to: `ip netns exec NS sysctl net.ipv4.ip_forward`.
func Forwarding(ns string) (bool, error) {
	var b []byte
	read := func() error {
		var err error
		b, err = os.ReadFile(forwardingFile)
		return err
	}
	var err error
	if ns == "" {
		err = read()
	} else {
		err = netns.Do(ns, read)
	}
	if err != nil {
		return false, fmt.Errorf("read ip_forward in %s: %w", where(ns), err)
	}
	return strings.TrimSpace(string(b)) == "1", nil
}

// SetForwarding turns IPv4 forwarding of ns on or off.
//
// Equivalent to: `ip netns exec NS sysctl -w net.ipv4.ip_forward=1`.
func SetForwarding(ns string, on bool) error {
	v := []byte("0\n")
	if on {
		v = []byte("1\n")
	}
	write := func() error { return os.WriteFile(forwardingFile, v, 0o644) }
	var err error
	if ns == "" {
		err = write()
	} else {
		err = netns.Do(ns, write)
	}
	if err != nil {
		return fmt.Errorf("set ip_forward in %s: %w", where(ns), err)
	}
	return nil
}

// WaitRunning waits up to timeout for link in ns to become operational
// (Link.Running). A link just set up drops what it is given until the
// kernel's linkwatch work has seen its carrier and attached a queueing
// discipline, which can take up to a second; waiting here keeps the first
// packets of a test from being lost.
func WaitRunning(ns, link string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		l, err := LinkByName(ns, link)
		if err != nil {
			return err
		}
		if l.Running() {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("link %s in %s: not running after %v (up %v, state %s)", link, where(ns), timeout, l.Up, l.OperState)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
