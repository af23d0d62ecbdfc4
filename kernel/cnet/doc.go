// Package cnet wires a container into the network the way Docker's default
// "bridge" network does, from the primitives of kernel/netdev and
// kernel/netns:
//
//   - one bridge, lab0, with 10.88.0.1/16, created on demand: the
//     containers' switch and their default gateway;
//   - one veth pair per container: the host end, labv<11 hex of the id>, is
//     a port of lab0; the other end is created directly inside the
//     container's network namespace and named eth0 there (one netlink
//     request: no move between namespaces, which costs RCU grace periods),
//     so the pair dies with the namespace and nothing has to delete it;
//   - an address from 10.88.0.2 upward, leased under a lock and recorded in
//     <Root>/network/, never handed out twice while leased; eth0's MAC
//     address is derived from it, so ARP caches stay right when an address
//     is handed out again;
//   - NAT out (MASQUERADE), and published ports (-p HOST:CTR): DNAT rules
//     in PREROUTING for traffic from other machines, namespaces and
//     containers, and in OUTPUT for the host's own connections;
//   - /etc/hosts, /etc/hostname and /etc/resolv.conf in the container's root.
//
// Every iptables rule carries a comment: "lab-ctr" for the rules the bridge
// shares, "lab-ctr:<id12>" for one container's published ports, so Detach,
// Prune and Teardown find exactly their own rules, even after a crash.
//
// The network modes are those of `docker run --net`: "bridge" (Attach),
// "none" (a namespace with only lo up: SetupLoopback) and "host" (no
// network namespace at all: nothing to do).
//
// Decisions worth knowing:
//
//   - IPv4 forwarding: Attach turns net.ipv4.ip_forward on for the whole
//     host when it is off, as Docker does (see Attach for why the
//     per-interface switch is not enough); the lab0 bridge then carries the
//     alias "lab: ip_forward was 0", and Teardown, which deletes the
//     bridge, turns forwarding off again.
//   - A published port is reachable from the host itself at any of its
//     addresses: 127.0.0.1, the gateway 10.88.0.1, its LAN address. Docker
//     runs a proxy process (docker-proxy) per port for 127.0.0.1; lab uses
//     kernel NAT only, with route_localnet=1 on lab0 and a MASQUERADE rule
//     (see allowHostToOwnPorts), and guard rules against what
//     route_localnet would otherwise let containers do.
//   - A container reaching a published port through the host (its own:
//     hairpin, or another container's) is masqueraded as 10.88.0.1, and its
//     bridge port has hairpin mode on, as in Docker without its proxy.
//   - "Already published" means a DNAT rule of another container for the
//     same port (any state dir) or a socket of the host bound to it: bind(2)
//     fails with EADDRINUSE. Attach, and CheckPorts before it, then fail
//     with ErrPortInUse and create nothing.
//   - /etc/resolv.conf is the host's without nameservers on loopback
//     (systemd-resolved's 127.0.0.53, a local dnsmasq), which would be the
//     container's own loopback; with systemd-resolved, its upstream list
//     (/run/systemd/resolve/resolv.conf) is used instead. There is no DNS
//     server on lab0: if nothing is left, Docker's fallback, 8.8.8.8 and
//     8.8.4.4, is written (bridge mode only).
//   - The lock (LockPath) is host-wide, not per state dir: the bridge, its
//     addresses, host ports and iptables rules belong to the whole host.
//     Two LAB_ROOTs on one host never hand out the same address: each host
//     veth carries an alias naming its address, container and state dir,
//     and the allocator skips addresses a live veth claims.
//
// Speed (`sudo go test -run '^$' -bench AttachDetach ./kernel/cnet`, a
// 2-core VM): Attach takes about 2.5 to 3.5 ms on a quiet host, 4 to 7 ms
// while other tests load it; the kernel's veth creation is about 1 ms of
// it, the rest netlink round trips and waiting for the kernel's linkwatch
// work to bring the links up. Detach takes 0.2 ms (no port published: no
// iptables run at all; the namespace's teardown deletes the veth pair in
// the background).
package cnet
