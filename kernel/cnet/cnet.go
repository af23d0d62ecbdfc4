package cnet

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// The network every bridged container joins.
const (
	// Bridge is the host's bridge; containers' host veth ends are its ports.
	Bridge = "lab0"
	// VethPrefix starts the name of every container's host veth end.
	VethPrefix = "labv"
	// RuleComment marks the iptables rules the bridge shares; a
	// container's own rules are marked RuleComment + ":" + its short id.
	RuleComment = "lab-ctr"
)

var (
	// Subnet is the containers' network; Gateway, its first address, sits
	// on the bridge and is every container's default route.
	Subnet  = netip.MustParsePrefix("10.88.0.0/16")
	Gateway = netip.MustParseAddr("10.88.0.1")
)

// The network modes of `lab run --net`.
const (
	ModeBridge = "bridge" // own namespace, a veth on lab0, NAT, published ports
	ModeNone   = "none"   // own namespace with only lo up
	ModeHost   = "host"   // the host's namespace: nothing to set up
)

// ErrPortInUse is wrapped when a host port asked for is already published by
// another container or held by a program of the host. The CLI turns it into
// exit code 125, like Docker's "port is already allocated".
var ErrPortInUse = errors.New("port is already allocated")

// ParseMode checks a --net value.
func ParseMode(s string) (string, error) {
	switch s {
	case ModeBridge, ModeNone, ModeHost:
		return s, nil
	case "":
		return ModeBridge, nil
	}
	return "", fmt.Errorf("invalid network mode %q: use bridge, none or host", s)
}

// Port is one published port, `-p [HOSTIP:]HOSTPORT:CTRPORT[/PROTO]`:
// connections to HostPort on the host (on HostIP only, when it is set) are
// sent to ContainerPort of the container.
type Port struct {
	HostIP        netip.Addr `json:"host_ip,omitzero"`
	HostPort      uint16     `json:"host_port"`
	ContainerPort uint16     `json:"container_port"`
	Proto         string     `json:"proto"` // "tcp" or "udp"
}

// String renders p the way -p takes it: "8080:80/tcp", "127.0.0.1:8080:80/udp".
func (p Port) String() string {
	s := fmt.Sprintf("%d:%d/%s", p.HostPort, p.ContainerPort, p.Proto)
	if p.HostIP.IsValid() {
		s = p.HostIP.String() + ":" + s
	}
	return s
}

// ParsePort reads a -p value: "8080:80", "8080:80/udp", "127.0.0.1:8080:80".
// The protocol defaults to tcp. A host port is required (Docker picks a
// random one when it is missing; lab does not).
func ParsePort(s string) (Port, error) {
	bad := func(why string) (Port, error) {
		return Port{}, fmt.Errorf("invalid port %q: %s (use HOSTPORT:CTRPORT[/tcp|udp], e.g. 8080:80)", s, why)
	}
	spec, proto, hasProto := strings.Cut(s, "/")
	p := Port{Proto: "tcp"}
	if hasProto {
		if proto != "tcp" && proto != "udp" {
			return bad("protocol must be tcp or udp")
		}
		p.Proto = proto
	}
	parts := strings.Split(spec, ":")
	switch len(parts) {
	case 2:
	case 3:
		ip, err := netip.ParseAddr(parts[0])
		if err != nil || !ip.Is4() {
			return bad("the host address must be an IPv4 address")
		}
		if !ip.IsUnspecified() { // 0.0.0.0 means every address, as no address does
			p.HostIP = ip
		}
		parts = parts[1:]
	default:
		return bad("need a host port and a container port")
	}
	var err error
	if p.HostPort, err = portNumber(parts[0]); err != nil {
		return bad("host port " + err.Error())
	}
	if p.ContainerPort, err = portNumber(parts[1]); err != nil {
		return bad("container port " + err.Error())
	}
	return p, nil
}

func portNumber(s string) (uint16, error) {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("%q is not a number from 1 to 65535", s)
	}
	return uint16(n), nil
}

// Endpoint is a container's place on the bridge: what Attach set up and
// Detach takes down. It is also the lease recorded in <Root>/network/.
type Endpoint struct {
	ID       string       `json:"id"`        // the container's full id
	HostVeth string       `json:"host_veth"` // labv<11 hex of the id>, a port of lab0
	Addr     netip.Prefix `json:"addr"`      // eth0's address in the container, 10.88.x.y/16
	Gateway  netip.Addr   `json:"gateway"`   // 10.88.0.1, the bridge's address
	Ports    []Port       `json:"ports,omitempty"`
}

// HostVethName is the name of a container's host veth end: "labv" and the
// first 11 hex digits of its id, 15 characters, the longest name a Linux
// interface can have (IFNAMSIZ 16 with the final NUL).
func HostVethName(id string) string {
	return VethPrefix + id[:min(11, len(id))]
}

// shortID is the 12-digit id Docker prints, used in rule comments.
func shortID(id string) string { return id[:min(12, len(id))] }

// containerComment marks the rules of one container.
func containerComment(id string) string { return RuleComment + ":" + shortID(id) }
