// Package netdev configures network devices the way iproute2 and iptables
// do: veth pairs, bridges, addresses, link state, routes, IP forwarding,
// masquerading (source NAT) and published ports (destination NAT).
//
// Every function takes the namespace it works in first: "" is the caller's
// (the host's), any other string is a named namespace of /run/netns. The
// work goes through a netlink handle opened inside that namespace (see
// netns.Handle), the way `ip -n NAME ...` works, so no thread ever changes
// namespace for a read.
//
// NAT rules are written with github.com/coreos/go-iptables, which drives
// the iptables program: the lab teaches iptables, and the rules a learner
// adds with `iptables` and the rules lab reads must be the same ones,
// whichever backend (nf_tables or legacy) the iptables of the machine uses.
// A native nftables library would see the nf_tables tables but not the
// legacy ones, and would print rules in a syntax the lessons do not teach.
package netdev
