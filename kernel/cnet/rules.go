package cnet

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/lab-edu/lab/kernel/netdev"
)

// loopback is 127.0.0.0/8, the host's own loopback network.
var loopback = netip.MustParsePrefix("127.0.0.0/8")

// commented appends the comment match that marks a rule as lab's.
func commented(comment string, spec ...string) []string {
	return append(spec, "-m", "comment", "--comment", comment)
}

// sharedRules are the rules of the bridge itself, the same for every
// container, marked "lab-ctr", modelled on those Docker writes for docker0
// when its userland proxy is off.
func sharedRules() []netdev.Rule {
	subnet, lo := Subnet.String(), loopback.String()
	return []netdev.Rule{
		// NAT out: a packet of a container leaving by any interface but
		// the bridge (towards the host's network) takes the address of that
		// interface, so answers find their way back to the host, which
		// conntrack then forwards to the container.
		{Table: "nat", Chain: "POSTROUTING", Spec: append(commented(RuleComment,
			"-s", subnet, "!", "-o", Bridge), "-j", "MASQUERADE")},
		// Published ports reached through 127.0.0.1: after the OUTPUT DNAT
		// the packet leaves by lab0 with source 127.0.0.1, which the
		// container could not answer; it takes the bridge's address instead.
		{Table: "nat", Chain: "POSTROUTING", Spec: append(commented(RuleComment,
			"-s", lo, "-o", Bridge), "-j", "MASQUERADE")},
		// Hairpin: a container reaching a published port (its own or
		// another container's) through the host. Without this the server
		// would answer the client directly over the bridge, from an address
		// the client never called, and the client would drop the answer.
		{Table: "nat", Chain: "POSTROUTING", Spec: append(commented(RuleComment,
			"-s", subnet, "-o", Bridge, "-m", "conntrack", "--ctstate", "DNAT"), "-j", "MASQUERADE")},
		// A container must not pass for the host: a packet from lab0 with
		// one of the host's own addresses as source (127.0.0.1, which
		// route_localnet lets in, or 10.88.0.1, ...) is only accepted as
		// the answer to a connection of the host (a published port the
		// host reached at its own address), never to start one, for the
		// host or beyond.
		{Table: "filter", Chain: "INPUT", Spec: append(commented(RuleComment,
			"-i", Bridge, "-m", "addrtype", "--src-type", "LOCAL", "-m", "conntrack", "!", "--ctstate", "RELATED,ESTABLISHED"), "-j", "DROP")},
		{Table: "filter", Chain: "FORWARD", Spec: append(commented(RuleComment,
			"-i", Bridge, "-m", "addrtype", "--src-type", "LOCAL"), "-j", "DROP")},
		// Forwarding in case the FORWARD policy is DROP (it is once Docker
		// is installed): containers may send anywhere; towards them, only
		// answers and published ports pass.
		{Table: "filter", Chain: "FORWARD", Spec: append(commented(RuleComment,
			"-i", Bridge), "-j", "ACCEPT")},
		{Table: "filter", Chain: "FORWARD", Spec: append(commented(RuleComment,
			"-o", Bridge, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED,DNAT"), "-j", "ACCEPT")},
		// route_localnet=1 on lab0 (needed for 127.0.0.1 above) would also
		// let a container send packets to 127.0.0.1 and reach services the
		// host keeps on loopback (CVE-2020-8558 in Kubernetes). Only
		// answers to the host's own connections may arrive so.
		{Table: "filter", Chain: "INPUT", Spec: append(commented(RuleComment,
			"-d", lo, "-i", Bridge, "-m", "conntrack", "!", "--ctstate", "RELATED,ESTABLISHED"), "-j", "DROP")},
	}
}

// portRules are the two rules that publish p for the container at addr,
// marked "lab-ctr:<id12>": PREROUTING catches connections that arrive from
// elsewhere (another machine, another namespace, a container), OUTPUT the
// host's own. Without a host address, they catch the port on any address
// the host owns (addrtype LOCAL), never traffic passing through to other
// machines.
//
// Equivalent to: `iptables -t nat -A PREROUTING -m addrtype --dst-type LOCAL
// -p tcp -m tcp --dport HOSTPORT -j DNAT --to-destination ADDR:PORT` (and
// the same in OUTPUT).
func portRules(id string, addr netip.Addr, p Port) []netdev.Rule {
	var spec []string
	if p.HostIP.IsValid() {
		spec = []string{"-d", netip.PrefixFrom(p.HostIP, 32).String()}
	} else {
		spec = []string{"-m", "addrtype", "--dst-type", "LOCAL"}
	}
	spec = append(spec, "-p", p.Proto, "-m", p.Proto, "--dport", strconv.Itoa(int(p.HostPort)))
	spec = append(commented(containerComment(id), spec...),
		"-j", "DNAT", "--to-destination", netip.AddrPortFrom(addr, p.ContainerPort).String())
	return []netdev.Rule{
		{Table: "nat", Chain: "PREROUTING", Spec: spec},
		{Table: "nat", Chain: "OUTPUT", Spec: spec},
	}
}

// comment returns the --comment of a rule ("" if none).
func comment(r netdev.Rule) string {
	c, _ := r.Arg("--comment")
	return c
}

// isContainerRule reports whether r is one container's rule, and whose
// (the short id of its comment).
func isContainerRule(r netdev.Rule) (id12 string, ok bool) {
	return strings.CutPrefix(comment(r), RuleComment+":")
}

// publishedBy reads back a port a container rule publishes: its protocol,
// host port and host address (invalid for any address).
func publishedBy(r netdev.Rule) (Port, bool) {
	if r.Target() != "DNAT" {
		return Port{}, false
	}
	proto, _ := r.Arg("-p")
	dport, _ := r.Arg("--dport")
	n, err := strconv.ParseUint(dport, 10, 16)
	if err != nil {
		return Port{}, false
	}
	p := Port{Proto: proto, HostPort: uint16(n)}
	if d, ok := r.Arg("-d"); ok {
		if pre, err := netip.ParsePrefix(d); err == nil {
			p.HostIP = pre.Addr()
		} else if a, err := netip.ParseAddr(d); err == nil {
			p.HostIP = a
		}
	}
	return p, true
}

// clash reports whether two published ports would catch the same
// connections: same protocol and port, and one of them on every address or
// both on the same one.
func clash(a, b Port) bool {
	if a.Proto != b.Proto || a.HostPort != b.HostPort {
		return false
	}
	return !a.HostIP.IsValid() || !b.HostIP.IsValid() || a.HostIP == b.HostIP
}

// checkOwnPorts rejects a list that publishes one host port twice.
func checkOwnPorts(ports []Port) error {
	for i, p := range ports {
		if p.Proto != "tcp" && p.Proto != "udp" {
			return fmt.Errorf("publish %s: protocol must be tcp or udp", p)
		}
		if p.HostPort == 0 || p.ContainerPort == 0 {
			return fmt.Errorf("publish %s: ports must be 1 to 65535", p)
		}
		for _, q := range ports[:i] {
			if clash(p, q) {
				return fmt.Errorf("publish %s: %w (also asked for as %s)", p, ErrPortInUse, q)
			}
		}
	}
	return nil
}
