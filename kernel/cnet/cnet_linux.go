package cnet

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lab-edu/lab/kernel/netdev"
	"github.com/lab-edu/lab/kernel/netns"
)

// LockPath is the lock every change of the container network takes
// (flock(2), released by the kernel if the process dies). The bridge,
// addresses on it, host ports and iptables rules belong to the whole host,
// not to one state dir, so the lock is host-wide: two `lab` commands with
// different LAB_ROOTs still never hand out the same address or port.
const LockPath = "/run/lock/lab-cnet.lock"

func lock() (unlock func(), err error) {
	if err := os.MkdirAll(filepath.Dir(LockPath), 0o755); err != nil {
		return nil, fmt.Errorf("cnet: lock: %w", err)
	}
	unlock, err = netns.Lock(LockPath)
	if err != nil {
		return nil, fmt.Errorf("cnet: lock: %w", err)
	}
	return unlock, nil
}

// nsFile wraps a duplicate of the caller's namespace descriptor, so
// closing it leaves the caller's open.
func nsFile(fd int) (*os.File, error) {
	dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("cnet: netns fd %d: %w", fd, err)
	}
	f := os.NewFile(uintptr(dup), fmt.Sprintf("fd %d", fd))
	if ok, err := netns.IsNetns(fmt.Sprintf("/proc/self/fd/%d", dup)); err != nil || !ok {
		f.Close()
		return nil, fmt.Errorf("cnet: fd %d is not a network namespace", fd)
	}
	return f, nil
}

// Attach puts the container whose network namespace is open as netnsFD on
// the lab0 bridge (mode "bridge"): it creates lab0 if needed, leases an
// address, creates the veth pair with its inside end directly in the
// namespace (named eth0, addressed, up, default route via 10.88.0.1, lo
// up), and publishes ports. root is the state dir (Factory.Root); the
// lease is recorded in root/network/. On error nothing is left behind. A
// host port already published or held by a host program gives an error
// wrapping ErrPortInUse. The caller keeps netnsFD open (Attach does not
// close it) until Attach returns.
//
// IPv4 forwarding: the host must route between lab0 and its other
// interfaces, for NAT out and for published ports reached from other
// machines. Attach turns net.ipv4.ip_forward on when it is off, for the
// whole host, as Docker does: the per-interface switch
// (net.ipv4.conf.lab0.forwarding) is not enough, because answers coming
// back in through the host's uplink are forwarded according to the
// uplink's own switch. When it was off, the bridge remembers it (see
// forwardingAlias) and Teardown turns it off again with the bridge.
func Attach(ctx context.Context, root, id string, netnsFD int, ports []Port) (Endpoint, error) {
	p, err := Start(ctx, root, id, netnsFD, ports)
	if err != nil {
		return Endpoint{}, err
	}
	return p.Wait()
}

// Pending is an attachment whose address is leased and whose veth pair
// exists, while eth0 is still being configured inside the namespace.
type Pending struct {
	Endpoint // known from Start on: the address, the host veth, the ports
	root     string
	ns       *os.File
	inside   *inside
}

// Start does the part of Attach that decides: under the lock it leases
// the address and creates the pair, so the caller knows the container's
// address (for its /etc/hosts) and can go on starting the container while
// eth0 is configured. Wait finishes. The caller keeps netnsFD open until
// Start returns.
func Start(ctx context.Context, root, id string, netnsFD int, ports []Port) (*Pending, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	if err := checkOwnPorts(ports); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ns, err := nsFile(netnsFD)
	if err != nil {
		return nil, err
	}
	// The container's side is configured on another thread, which has to
	// enter the namespace first: it starts now, brings lo up, and waits
	// for eth0, which it configures while this thread finishes the host's
	// side.
	inside := startInside(ns)
	ep, err := claim(root, id, inside.eth0, ports)
	if err != nil {
		inside.stop()
		ns.Close()
		return nil, fmt.Errorf("attach %s to %s: %w", shortID(id), Bridge, err)
	}
	return &Pending{Endpoint: ep, root: root, ns: ns, inside: inside}, nil
}

// Wait waits until eth0 is addressed, up and routed inside the namespace
// and the host end forwards into the bridge. On error the lease and the
// pair are released.
func (p *Pending) Wait() (Endpoint, error) {
	defer p.ns.Close()
	if err := p.inside.wait(); err != nil {
		return Endpoint{}, errors.Join(fmt.Errorf("attach %s to %s: %w", shortID(p.ID), Bridge, err), abort(p.root, p.Endpoint))
	}
	waitForwarding(p.HostVeth)
	return p.Endpoint, nil
}

// waitForwarding waits, for at most 100 ms, until the host end forwards
// frames into the bridge. Its carrier comes up with eth0, and the bridge
// enables the port when the kernel's linkwatch work sees it; until then the
// bridge drops what the container sends, and a lost ARP request costs the
// container's first connection a one-second retry.
func waitForwarding(hostVeth string) {
	for deadline := time.Now().Add(100 * time.Millisecond); time.Now().Before(deadline); {
		if state, err := netdev.BridgePortState(hostVeth); err != nil || state == "forwarding" {
			return
		}
		time.Sleep(250 * time.Microsecond)
	}
}

// abort undoes a claim whose container side could not be configured,
// deleting the veth pair too: the container is still alive.
func abort(root string, ep Endpoint) error {
	unlock, err := lock()
	if err != nil {
		return err
	}
	defer unlock()
	return release(ep, root, true)
}

// claim does, under the lock, what other containers could race for: the
// bridge, an address, the host ports, the veth pair (whose host end's alias
// announces the address to other state dirs) and the port rules. create
// makes the veth pair.
func claim(root, id string, create func(hostVeth string, bridgeIndex int, addr netip.Addr) error, ports []Port) (ep Endpoint, err error) {
	unlock, err := lock()
	if err != nil {
		return Endpoint{}, err
	}
	defer unlock()
	host, err := netdev.OpenHost()
	if err != nil {
		return Endpoint{}, err
	}
	defer host.Close()
	links, err := ensureBridge(host)
	if err != nil {
		return Endpoint{}, err
	}
	leases, err := listLeases(root)
	if err != nil {
		return Endpoint{}, err
	}
	if slices.ContainsFunc(leases, func(l leaseName) bool { return l.id == id }) {
		return Endpoint{}, errors.New("already attached")
	}
	if err := checkHostPorts(ports); err != nil {
		return Endpoint{}, err
	}
	addr, err := firstFree(usedAddrs(leases, links))
	if err != nil {
		return Endpoint{}, err
	}
	ep = Endpoint{
		ID: id, HostVeth: HostVethName(id), Gateway: Gateway,
		Addr: netip.PrefixFrom(addr, Subnet.Bits()), Ports: slices.Clone(ports),
	}
	// The lease first: from now on a crash leaves a record that names
	// everything Attach may have created.
	if err := writeLease(root, ep); err != nil {
		return Endpoint{}, err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, release(ep, root, true))
		}
	}()
	if err := create(ep.HostVeth, bridgeIndex(links), addr); err != nil {
		return Endpoint{}, err
	}
	if err := host.SetAlias(ep.HostVeth, vethAlias(ep, root)); err != nil {
		return Endpoint{}, err
	}
	if len(ports) > 0 {
		if err := host.SetHairpin(ep.HostVeth, true); err != nil {
			return Endpoint{}, err
		}
	}
	var rules []netdev.Rule
	for _, p := range ports {
		rules = append(rules, portRules(id, addr, p)...)
	}
	if err := netdev.ApplyRules(rules, nil); err != nil {
		return Endpoint{}, fmt.Errorf("publish ports: %w", err)
	}
	return ep, nil
}

// usedAddrs is every address that is not free: leased in this state dir,
// or still held by a live veth (of another state dir, or of a container
// whose namespace is still being torn down: until the kernel deletes the
// pair, the old eth0 might still answer for the address).
func usedAddrs(leases []leaseName, links []netdev.LinkSummary) map[netip.Addr]bool {
	used := map[netip.Addr]bool{}
	for _, l := range leases {
		used[l.addr] = true
	}
	for _, l := range links {
		if addr, _, _, ok := parseAlias(l.Alias); ok && strings.HasPrefix(l.Name, VethPrefix) {
			used[addr] = true
		}
	}
	return used
}

func bridgeIndex(links []netdev.LinkSummary) int {
	for _, l := range links {
		if l.Name == Bridge {
			return l.Index
		}
	}
	return 0
}

// inside configures the container's side of the pair on its own thread.
type inside struct {
	ns      *os.File
	created chan netip.Prefix // the pair exists: configure eth0 with this address
	sent    bool
	done    chan error
}

func startInside(ns *os.File) *inside {
	in := &inside{ns: ns, created: make(chan netip.Prefix, 1), done: make(chan error, 1)}
	go func() { in.done <- in.run() }()
	return in
}

// eth0 creates the veth pair with its peer in the container's namespace,
// named eth0 there, and lets the inside thread configure it: it is the
// create function claim calls.
func (in *inside) eth0(hostVeth string, bridgeIndex int, addr netip.Addr) error {
	if err := netdev.AddBridgePort(hostVeth, bridgeIndex, "eth0", macFor(addr), in.ns); err != nil {
		return err
	}
	in.created <- netip.PrefixFrom(addr, Subnet.Bits())
	in.sent = true
	return nil
}

// macFor derives eth0's MAC address from its IPv4 address, as Docker does
// (02:42 and the four bytes of the address; lab uses 02:4c): an address
// handed out again comes back with the same MAC, so the ARP entries the
// host and the other containers still keep for it stay right. With a
// random MAC, they would send to the previous container's for seconds,
// until the kernel probes the entry again. 0x02 in the first byte marks a
// locally administered, unicast address.
func macFor(addr netip.Addr) net.HardwareAddr {
	a := addr.As4()
	return net.HardwareAddr{0x02, 0x4c, a[0], a[1], a[2], a[3]}
}

// run opens a netlink socket inside the namespace, brings lo up, then
// waits for the pair and gives eth0 its address, brings it up and adds the
// default route (which needs eth0 up: the kernel refuses a gateway it has
// no route to). Nobody else sees this namespace: no lock is needed.
func (in *inside) run() error {
	n, err := netdev.OpenNamespace(in.ns)
	if err != nil {
		return err
	}
	defer n.Close()
	if err := n.SetUp("lo"); err != nil {
		return err
	}
	addr, ok := <-in.created
	if !ok {
		return nil
	}
	steps := []func() error{
		func() error { return n.AddAddr("eth0", addr) },
		func() error { return n.SetUp("eth0") },
		func() error { return n.AddDefaultRoute(Gateway) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	// A link just set up drops what it is given until the kernel's
	// linkwatch work has seen its carrier and given it a queueing
	// discipline, usually within a fraction of a millisecond. A lost
	// first SYN would cost the container's program a one-second
	// retransmission, so Attach returns once eth0 runs (or gives up
	// waiting after 100 ms: the link will come up anyway).
	_ = n.WaitRunning("eth0", 100*time.Millisecond)
	return nil
}

// wait returns the inside thread's result.
func (in *inside) wait() error { return <-in.done }

// stop ends the inside thread after a failed claim.
func (in *inside) stop() {
	if !in.sent {
		close(in.created)
	}
	<-in.done
}

// SetupLoopback brings lo up in the namespace open as netnsFD: all the
// "none" mode needs.
func SetupLoopback(netnsFD int) error {
	ns, err := nsFile(netnsFD)
	if err != nil {
		return err
	}
	defer ns.Close()
	in, err := netdev.OpenNamespace(ns)
	if err != nil {
		return err
	}
	defer in.Close()
	return in.SetUp("lo")
}

// ensureBridge creates lab0 and what goes with it when it is missing, turns
// IPv4 forwarding on, and returns the host's links. The shared rules come
// before the bridge: the bridge's existence then means they were written,
// and a crash in between only makes the next Attach write them again.
func ensureBridge(host *netdev.Namespace) ([]netdev.LinkSummary, error) {
	wasOn, err := netdev.Forwarding("")
	if err != nil {
		return nil, err
	}
	if !wasOn {
		if err := netdev.SetForwarding("", true); err != nil {
			return nil, err
		}
	}
	links, err := host.LinkSummaries()
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(links, func(l netdev.LinkSummary) bool { return l.Name == Bridge })
	if i >= 0 && links[i].Type != "bridge" {
		return nil, fmt.Errorf("cnet: %s exists but is a %s, not a bridge", Bridge, links[i].Type)
	}
	if i < 0 {
		if err := writeSharedRules(); err != nil {
			return nil, err
		}
		if err := netdev.AddBridgeWithMAC(Bridge, bridgeMAC()); err != nil && !netdev.IsExist(err) {
			return nil, err
		}
		if !wasOn {
			if err := host.SetAlias(Bridge, forwardingAlias); err != nil {
				return nil, err
			}
		}
		if links, err = host.LinkSummaries(); err != nil {
			return nil, err
		}
		i = slices.IndexFunc(links, func(l netdev.LinkSummary) bool { return l.Name == Bridge })
	}
	gw := netip.PrefixFrom(Gateway, Subnet.Bits())
	addrs, err := host.Addrs(Bridge)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(addrs, gw) {
		if err := host.AddAddr(Bridge, gw); err != nil && !netdev.IsExist(err) {
			return nil, err
		}
		if err := allowHostToOwnPorts(); err != nil {
			return nil, err
		}
	}
	if i >= 0 && !links[i].Up {
		if err := host.SetUp(Bridge); err != nil {
			return nil, err
		}
	}
	return links, nil
}

// allowHostToOwnPorts lets the host reach a published port at
// 127.0.0.1. After the OUTPUT DNAT such a connection leaves through lab0
// with 127.0.0.1 as source (MASQUERADE rewrites it to 10.88.0.1 only in
// POSTROUTING, after routing), and the container's answer, once conntrack
// has undone the NAT, comes back in through lab0 from and to 127.0.0.1.
// The kernel drops both as martians unless net.ipv4.conf.lab0.route_localnet
// is 1. Only lab0's switch is turned on, never "all", and the shared rules
// drop what a container could otherwise send to or from 127.0.0.0/8 (see
// sharedRules). This is what Docker does without its userland proxy
// (docker-proxy), whose place lab's published ports take; the host's other
// addresses (10.88.0.1, its LAN address) need no switch.
func allowHostToOwnPorts() error {
	return netdev.SetIPv4Conf(Bridge, "route_localnet", "1")
}

// bridgeMAC is a random, locally administered unicast MAC address.
func bridgeMAC() net.HardwareAddr {
	mac := make(net.HardwareAddr, 6)
	_, _ = rand.Read(mac)
	mac[0] = mac[0]&^0x01 | 0x02 // clear the multicast bit, set the local bit
	return mac
}

// writeSharedRules replaces whatever "lab-ctr" rules there are with the
// current set, in one transaction per table.
func writeSharedRules() error {
	old, err := sharedRulesPresent()
	if err != nil {
		return err
	}
	return netdev.ApplyRules(sharedRules(), old)
}

func sharedRulesPresent() ([]netdev.Rule, error) {
	var out []netdev.Rule
	for _, table := range []string{"nat", "filter"} {
		rules, err := netdev.TableRules(table)
		if err != nil {
			return nil, err
		}
		for _, r := range rules {
			if comment(r) == RuleComment {
				out = append(out, r)
			}
		}
	}
	return out, nil
}

// checkHostPorts fails with ErrPortInUse when a host port is published by
// another container (a lab-ctr:<id> DNAT rule, whatever its state dir) or
// held by a socket of the host. Preconditions: the lock is held.
func checkHostPorts(ports []Port) error {
	if len(ports) == 0 {
		return nil
	}
	rules, err := netdev.TableRules("nat")
	if err != nil {
		return err
	}
	for _, p := range ports {
		for _, r := range rules {
			id12, ok := isContainerRule(r)
			if !ok || r.Chain != "PREROUTING" {
				continue
			}
			if q, ok := publishedBy(r); ok && clash(p, q) {
				return fmt.Errorf("publish %s: %w (published by container %s)", p, ErrPortInUse, id12)
			}
		}
		if err := probeBind(p); errors.Is(err, unix.EADDRINUSE) {
			return fmt.Errorf("publish %s: %w (a program of the host holds it: %v)", p, ErrPortInUse, err)
		} else if err != nil {
			return fmt.Errorf("publish %s: %w", p, err)
		}
	}
	return nil
}

// probeBind binds the host port and lets it go at once: bind(2) failing
// with EADDRINUSE is the kernel saying a socket of the host has it (a
// listener on any of its addresses, or a UDP socket), which the DNAT rule
// would silently steal traffic from. Docker's proxy fails the same way.
func probeBind(p Port) error {
	ip := netip.IPv4Unspecified()
	if p.HostIP.IsValid() {
		ip = p.HostIP
	}
	ap := netip.AddrPortFrom(ip, p.HostPort)
	if p.Proto == "udp" {
		c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(ap))
		if err != nil {
			return err
		}
		return c.Close()
	}
	l, err := net.ListenTCP("tcp4", net.TCPAddrFromAddrPort(ap))
	if err != nil {
		return err
	}
	return l.Close()
}

// CheckPorts reports, without changing anything, whether ports could be
// published now (each host port free of other containers' rules and of host
// sockets), so `lab run` can refuse before it creates the container. Attach
// checks again under its lock.
func CheckPorts(ctx context.Context, root string, ports []Port) error {
	if err := checkOwnPorts(ports); err != nil {
		return err
	}
	if len(ports) == 0 {
		return nil
	}
	unlock, err := lock()
	if err != nil {
		return err
	}
	defer unlock()
	return checkHostPorts(ports)
}

// Detach undoes Attach for container id once it is gone: deletes its
// published-port rules and frees its address. It is idempotent: a
// container never attached, or already detached, is not an error.
//
// The veth pair is the kernel's to delete: when the container's last
// process exits, its network namespace is torn down (in a kernel work
// queue, some 25 ms later on this kind of machine) and the pair goes with
// it. Deleting it here would only wait for the same RCU grace periods.
// Until it is gone, its alias keeps the address from being handed out
// again. If something still holds the namespace open, the veth stays, and
// Prune deletes it.
func Detach(ctx context.Context, root, id string) error {
	if err := checkID(id); err != nil {
		return err
	}
	unlock, err := lock()
	if err != nil {
		return err
	}
	defer unlock()
	ep, ok, err := readLease(root, id)
	if err != nil || !ok {
		return err
	}
	if err := release(ep, root, false); err != nil {
		return fmt.Errorf("detach %s: %w", shortID(id), err)
	}
	return nil
}

// release deletes what a lease names, then the lease; the host veth end
// only when deleteVeth is true (an Attach that failed halfway, Prune).
// Preconditions: the lock is held.
func release(ep Endpoint, root string, deleteVeth bool) error {
	if len(ep.Ports) > 0 {
		if err := deleteContainerRules(func(id12 string) bool { return id12 == shortID(ep.ID) }); err != nil {
			return err
		}
	}
	if deleteVeth {
		if err := netdev.DeleteLink("", ep.HostVeth); err != nil {
			return err
		}
	}
	return removeLease(root, ep)
}

// deleteContainerRules deletes the nat rules marked lab-ctr:<id12> for
// which match(id12) is true. Preconditions: the lock is held.
func deleteContainerRules(match func(id12 string) bool) error {
	rules, err := netdev.TableRules("nat")
	if err != nil {
		return err
	}
	var del []netdev.Rule
	for _, r := range rules {
		if id12, ok := isContainerRule(r); ok && match(id12) {
			del = append(del, r)
		}
	}
	return netdev.ApplyRules(nil, del)
}

// Lookup returns the endpoint leased for container id in root, and whether
// there is one (for inspect).
func Lookup(root, id string) (Endpoint, bool, error) {
	if err := checkID(id); err != nil {
		return Endpoint{}, false, err
	}
	return readLease(root, id)
}

// Prune detaches every container of root that alive says is gone (after a
// crash of lab or of a supervisor), and removes what a crash between two
// steps of Attach or Detach left: rules marked lab-ctr:<id12> and host
// veths whose container has no lease any more.
//
// Other state dirs' containers are left alone: a rule stays while a lease
// of root or a live veth (of any state dir) names its container, and a
// veth stays unless its alias names root (or a state dir that no longer
// exists).
func Prune(ctx context.Context, root string, alive func(id string) bool) error {
	unlock, err := lock()
	if err != nil {
		return err
	}
	defer unlock()
	leases, err := readLeases(root)
	if err != nil {
		return err
	}
	var errs []error
	kept := map[string]bool{} // short ids still leased
	for _, ep := range leases {
		if alive(ep.ID) {
			kept[shortID(ep.ID)] = true
			continue
		}
		if err := release(ep, root, false); err != nil {
			errs = append(errs, fmt.Errorf("prune %s: %w", shortID(ep.ID), err))
			kept[shortID(ep.ID)] = true
		}
	}
	host, err := netdev.OpenHost()
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	defer host.Close()
	links, err := host.LinkSummaries()
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	live := map[string]bool{} // 11-digit prefixes of ids with a veth
	for _, l := range links {
		_, id, owner, ok := parseAlias(l.Alias)
		if !ok || !strings.HasPrefix(l.Name, VethPrefix) {
			continue
		}
		if orphanVeth(root, owner, id, kept) {
			errs = append(errs, netdev.DeleteLink("", l.Name))
			continue
		}
		live[strings.TrimPrefix(l.Name, VethPrefix)] = true
	}
	errs = append(errs, deleteContainerRules(func(id12 string) bool {
		return !kept[id12] && !live[id12[:min(11, len(id12))]]
	}))
	return errors.Join(errs...)
}

// orphanVeth reports whether a host veth of container id, labelled with
// state dir owner, has nothing left to serve: it is root's and id holds no
// lease, or its state dir is gone.
func orphanVeth(root, owner, id string, kept map[string]bool) bool {
	if owner == root {
		return !kept[shortID(id)]
	}
	if owner == "?" {
		return false
	}
	_, err := os.Stat(leaseDir(owner))
	return errors.Is(err, fs.ErrNotExist)
}

// forwardingAlias is the label (IFLA_IFALIAS) of a lab0 that Attach
// created while net.ipv4.ip_forward was 0. The record lives on the bridge
// itself: it exists exactly as long as the bridge, survives a crash of
// lab, and needs no file outside the state dir.
const forwardingAlias = "lab: ip_forward was 0"

// Teardown removes the lab0 bridge and the shared lab-ctr rules when no
// container is plugged into the bridge any more (`lab reset`, tests), and
// reports whether it removed anything (false: nothing was there, or
// containers still use the bridge, which stays). It turns net.ipv4.ip_forward off again when the bridge
// says Attach turned it on (see forwardingAlias).
func Teardown(ctx context.Context) (removed bool, err error) {
	unlock, err := lock()
	if err != nil {
		return false, err
	}
	defer unlock()
	host, err := netdev.OpenHost()
	if err != nil {
		return false, err
	}
	defer host.Close()
	links, err := host.LinkSummaries()
	if err != nil {
		return false, err
	}
	if index := bridgeIndex(links); index != 0 && slices.ContainsFunc(links, func(l netdev.LinkSummary) bool { return l.MasterIndex == index }) {
		return false, nil // containers still use it
	}
	old, err := sharedRulesPresent()
	if err != nil {
		return false, err
	}
	if err := netdev.ApplyRules(nil, old); err != nil {
		return false, err
	}
	restore := slices.ContainsFunc(links, func(l netdev.LinkSummary) bool {
		return l.Name == Bridge && l.Alias == forwardingAlias
	})
	if err := netdev.DeleteLink("", Bridge); err != nil {
		return false, err
	}
	if restore {
		if err := netdev.SetForwarding("", false); err != nil {
			return false, err
		}
	}
	return bridgeIndex(links) != 0 || len(old) > 0, nil
}
