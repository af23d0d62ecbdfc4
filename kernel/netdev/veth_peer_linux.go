package netdev

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// LinkSummary is what one RTM_GETLINK dump says of a link without asking
// for its addresses: enough for a quick look at a bridge and its ports.
type LinkSummary struct {
	Index       int
	Name        string
	Type        string // "veth", "bridge", ...
	Alias       string // IFLA_IFALIAS, set with `ip link set LINK alias TEXT`
	Up          bool   // IFF_UP
	MasterIndex int    // the bridge this link is a port of, 0 for none
}

// LinkSummaries lists the links of the namespace in one netlink dump.
//
// Equivalent to: `ip -d link show`.
func (n *Namespace) LinkSummaries() ([]LinkSummary, error) {
	var links []netlink.Link
	err := retryInterrupted(func() (err error) { links, err = n.h.LinkList(); return err })
	if err != nil {
		return nil, fmt.Errorf("list links in %s: %w", n.where(), err)
	}
	out := make([]LinkSummary, 0, len(links))
	for _, l := range links {
		a := l.Attrs()
		out = append(out, LinkSummary{
			Index: a.Index, Name: a.Name, Type: l.Type(), Alias: a.Alias,
			Up: a.Flags&net.FlagUp != 0, MasterIndex: a.MasterIndex,
		})
	}
	return out, nil
}

// retryInterrupted runs a netlink dump again when the kernel flagged it
// NLM_F_DUMP_INTR: the table changed while it was being read (a namespace
// being torn down deletes its veths at any moment), so the answer may
// miss or repeat entries.
func retryInterrupted(dump func() error) error {
	var err error
	for range 10 {
		if err = dump(); !errors.Is(err, netlink.ErrDumpInterrupted) {
			return err
		}
	}
	return err
}

// Addrs lists the IPv4 addresses of link.
//
// Equivalent to: `ip -4 address show dev LINK`.
func (n *Namespace) Addrs(link string) ([]netip.Prefix, error) {
	l, err := n.link(link)
	if err != nil {
		return nil, err
	}
	var addrs []netlink.Addr
	err = retryInterrupted(func() (err error) { addrs, err = n.h.AddrList(l, netlink.FAMILY_V4); return err })
	if err != nil {
		return nil, fmt.Errorf("list addresses of %s in %s: %w", link, n.where(), err)
	}
	var out []netip.Prefix
	for _, a := range addrs {
		if ip, ok := netip.AddrFromSlice(a.IP); ok && a.IPNet != nil {
			ones, _ := a.Mask.Size()
			out = append(out, netip.PrefixFrom(ip.Unmap(), ones))
		}
	}
	return out, nil
}

// SetAlias labels link with a free text (IFLA_IFALIAS, at most 255 bytes)
// that `ip link` shows as "alias TEXT"; it is how a program can leave a
// note on a link for whoever finds it later.
//
// Equivalent to: `ip link set LINK alias TEXT`.
func (n *Namespace) SetAlias(link, alias string) error {
	l, err := n.link(link)
	if err != nil {
		return err
	}
	if err := n.h.LinkSetAlias(l, alias); err != nil {
		return fmt.Errorf("set alias of %s in %s: %w", link, n.where(), err)
	}
	return nil
}

// AddBridgePort creates, in one RTM_NEWLINK request, a veth pair for a
// container: the NAME end in the host namespace, up and already a port of the
// bridge whose index is bridgeIndex (IFLA_MASTER); the PEER end directly
// inside the namespace of the file ns, down and without address, with MAC
// address peerMAC (nil: a random one).
//
// Creating the peer where it belongs (IFLA_NET_NS_FD among the
// VETH_INFO_PEER attributes) is much cheaper than creating both ends here
// and moving one: a move unregisters and re-registers the device, which
// waits for RCU grace periods. And since the peer then lives in the
// container's namespace, the kernel deletes the pair when that namespace
// dies (a veth goes with either of its ends).
//
// Equivalent to: `ip link add NAME up master BRIDGE type veth peer name PEER address MAC netns NS`.
func AddBridgePort(name string, bridgeIndex int, peer string, peerMAC net.HardwareAddr, ns *os.File) error {
	req := nl.NewNetlinkRequest(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL|unix.NLM_F_ACK)
	msg := nl.NewIfInfomsg(unix.AF_UNSPEC)
	msg.Change, msg.Flags = unix.IFF_UP, unix.IFF_UP
	req.AddData(msg)
	req.AddData(nl.NewRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated(name)))
	req.AddData(nl.NewRtAttr(unix.IFLA_MASTER, nl.Uint32Attr(uint32(bridgeIndex))))
	info := nl.NewRtAttr(unix.IFLA_LINKINFO, nil)
	info.AddRtAttr(nl.IFLA_INFO_KIND, nl.NonZeroTerminated("veth"))
	data := info.AddRtAttr(nl.IFLA_INFO_DATA, nil)
	p := data.AddRtAttr(nl.VETH_INFO_PEER, nil)
	nl.NewIfInfomsgChild(p, unix.AF_UNSPEC)
	p.AddRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated(peer))
	if peerMAC != nil {
		p.AddRtAttr(unix.IFLA_ADDRESS, peerMAC)
	}
	p.AddRtAttr(unix.IFLA_NET_NS_FD, nl.Uint32Attr(uint32(ns.Fd())))
	req.AddData(info)
	// Execute opens a netlink socket on this thread, in the host's
	// namespace: only netns.Do's throwaway threads ever leave it.
	if _, err := req.Execute(unix.NETLINK_ROUTE, 0); err != nil {
		return fmt.Errorf("create veth %s/%s: %w", name, peer, err)
	}
	return nil
}

// SetIPv4Conf writes a per-interface IPv4 setting of a host link, a file of
// /proc/sys/net/ipv4/conf/LINK/ (route_localnet, forwarding, rp_filter...).
//
// Equivalent to: `sysctl -w net.ipv4.conf.LINK.KEY=VALUE`.
func SetIPv4Conf(link, key, value string) error {
	path := "/proc/sys/net/ipv4/conf/" + link + "/" + key
	if strings.ContainsRune(link, '/') || strings.ContainsRune(key, '/') {
		return fmt.Errorf("set %s: invalid link or key", path)
	}
	if err := os.WriteFile(path, []byte(value+"\n"), 0o644); err != nil {
		return fmt.Errorf("set net.ipv4.conf.%s.%s: %w", link, key, err)
	}
	return nil
}

// AddBridgeWithMAC creates a bridge in the host namespace with a fixed MAC
// address. A bridge created without one takes the lowest MAC of its ports
// and changes it when that port leaves, which makes every neighbour's ARP
// entry for the bridge stale at once; an address set by hand
// (addr_assign_type NET_ADDR_SET) stays, as Docker does for docker0.
//
// Equivalent to: `ip link add NAME address MAC type bridge`.
func AddBridgeWithMAC(name string, mac net.HardwareAddr) error {
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: name, HardwareAddr: mac, TxQLen: -1}}
	if err := netlink.LinkAdd(br); err != nil {
		return fmt.Errorf("create bridge %s: %w", name, err)
	}
	return nil
}

// SetHairpin lets the bridge send a frame back out of the port it came in
// by (IFLA_BRPORT_MODE). A bridge normally never does: the sender already
// has it. A container reaching its own published port through the host is
// the exception: the DNAT rule turns the packet, in the bridge's
// netfilter hook, into one for the container itself, behind the port it
// came from.
//
// Equivalent to: `bridge link set dev LINK hairpin on`.
func (n *Namespace) SetHairpin(link string, on bool) error {
	l, err := n.link(link)
	if err != nil {
		return err
	}
	if err := n.h.LinkSetHairpin(l, on); err != nil {
		return fmt.Errorf("set hairpin of %s in %s: %w", link, n.where(), err)
	}
	return nil
}

// BridgePortState reads the spanning-tree state of a bridge port of the
// host from sysfs, /sys/class/net/LINK/brport/state: "disabled",
// "listening", "learning", "forwarding" or "blocking". A port forwards
// frames only in state "forwarding", which a bridge without STP gives a
// port as soon as its carrier is up.
//
// Equivalent to: `bridge link show dev LINK` ("state forwarding").
func BridgePortState(link string) (string, error) {
	if strings.ContainsRune(link, '/') {
		return "", fmt.Errorf("bridge port state: invalid link %q", link)
	}
	b, err := os.ReadFile("/sys/class/net/" + link + "/brport/state")
	if err != nil {
		return "", fmt.Errorf("bridge port state of %s: %w", link, err)
	}
	// include/uapi/linux/if_bridge.h: BR_STATE_DISABLED 0 ... BR_STATE_BLOCKING 4
	states := []string{"disabled", "listening", "learning", "forwarding", "blocking"}
	var n int
	if _, err := fmt.Sscanf(string(b), "%d", &n); err != nil || n < 0 || n >= len(states) {
		return "", fmt.Errorf("bridge port state of %s: unexpected %q", link, b)
	}
	return states[n], nil
}
