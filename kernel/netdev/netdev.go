package netdev

import (
	"errors"
	"net/netip"
	"strings"
)

// Link is one network interface as netlink describes it.
type Link struct {
	Index     int    `json:"index"`
	Name      string `json:"name"`
	Type      string `json:"type"`       // "veth", "bridge", "device" (loopback, NIC), ...
	Up        bool   `json:"up"`         // administratively up: IFF_UP, what `ip link set up` sets
	OperState string `json:"oper_state"` // what the kernel sees: "up", "down", "lowerlayerdown", "unknown"
	MAC       string `json:"mac,omitempty"`
	MTU       int    `json:"mtu"`
	// MasterIndex is the bridge this link is a port of (0: none), Master
	// its name.
	MasterIndex int    `json:"master_index,omitempty"`
	Master      string `json:"master,omitempty"`
	// PeerIndex is a veth's peer ifindex (IFLA_LINK), PeerNetnsID the id
	// under which this namespace knows the peer's namespace
	// (IFLA_LINK_NETNSID), -1 when the peer is in the same namespace.
	PeerIndex   int            `json:"peer_index,omitempty"`
	PeerNetnsID int            `json:"peer_netnsid"`
	Addrs       []netip.Prefix `json:"addrs,omitempty"` // IPv4 and IPv6 addresses with their prefix length
}

// Running reports whether the link is up and carries packets: IFF_UP set
// and an operational state of "up" (or "unknown", what loopback reports).
func (l Link) Running() bool {
	return l.Up && (l.OperState == "up" || l.OperState == "unknown")
}

// IPv4 returns the link's IPv4 addresses.
func (l Link) IPv4() []netip.Prefix {
	var out []netip.Prefix
	for _, p := range l.Addrs {
		if p.Addr().Is4() {
			out = append(out, p)
		}
	}
	return out
}

// Route is one entry of the main routing table.
type Route struct {
	Dst     netip.Prefix `json:"dst"` // 0.0.0.0/0 for the default route
	Gateway netip.Addr   `json:"gateway,omitzero"`
	Dev     string       `json:"dev,omitempty"`
	Src     netip.Addr   `json:"src,omitzero"`
}

// IsDefault reports whether r is a default route.
func (r Route) IsDefault() bool { return r.Dst.Bits() == 0 }

// String renders the route like `ip route`.
func (r Route) String() string {
	var b strings.Builder
	if r.IsDefault() {
		b.WriteString("default")
	} else {
		b.WriteString(r.Dst.String())
	}
	if r.Gateway.IsValid() {
		b.WriteString(" via " + r.Gateway.String())
	}
	if r.Dev != "" {
		b.WriteString(" dev " + r.Dev)
	}
	if r.Src.IsValid() {
		b.WriteString(" src " + r.Src.String())
	}
	return b.String()
}

// Socket is one TCP socket as sock_diag reports it.
type Socket struct {
	Local  netip.AddrPort `json:"local"`
	Remote netip.AddrPort `json:"remote"`
	State  string         `json:"state"` // "listen", "established", ...
}

// Peer says where the other end of a veth is.
type Peer struct {
	Netns string `json:"netns"` // "" for the host, else a name of /run/netns
	Name  string `json:"name"`
	Index int    `json:"index"`
	// Known is false when the peer's namespace has no name lab can see
	// (an anonymous namespace, or one of a container).
	Known bool `json:"known"`
}

// State is what a namespace holds: its links and routes.
type State struct {
	Netns  string          `json:"netns"`
	Links  []Link          `json:"links"`
	Routes []Route         `json:"routes"`
	Peers  map[string]Peer `json:"peers,omitempty"` // by veth name
}

// ErrNoLink is wrapped by LinkByName when no link has that name.
var ErrNoLink = errors.New("no such link")

// SameSubnet reports whether two prefixes are in the same subnet: the
// same network when both are masked with the shorter prefix length.
func SameSubnet(a, b netip.Prefix) bool {
	bits := min(a.Bits(), b.Bits())
	if a.Addr().Is4() != b.Addr().Is4() {
		return false
	}
	pa, _ := a.Addr().Prefix(bits)
	pb, _ := b.Addr().Prefix(bits)
	return pa == pb
}
