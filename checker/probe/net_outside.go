package probe

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/lab-edu/lab/kernel/netdev"
	"github.com/lab-edu/lab/kernel/netns"
)

// OutsidePrefix is where checks put their "outside" network:
// 198.51.100.0/24 is TEST-NET-2 (RFC 5737), reserved for documentation, so
// no real host answers there.
var OutsidePrefix = netip.MustParsePrefix("198.51.100.0/24")

// Outside is a network the check builds for the length of one check: a
// namespace of its own joined to the host by a veth, like the internet
// beyond a router. Traffic to and from it never leaves the machine.
type Outside struct {
	Netns    string     // the namespace, lab-chk-XXXX
	HostLink string     // the host end of the veth, same name as Netns
	Addr     netip.Addr // the outside's address: 198.51.100.1
	HostAddr netip.Addr // the host's address on that link: 198.51.100.2

	unlock func()
}

// OutsideLock serializes outside networks between processes (a reset
// removes the file).
const OutsideLock = "/run/lock/lab-netns-outside.lock"

// removeStaleOutsides deletes outside networks a crashed check left.
func removeStaleOutsides() error {
	names, err := netns.List()
	if err != nil {
		return err
	}
	var errs []error
	for _, n := range names {
		if strings.HasPrefix(n, OutsideNetnsPrefix) {
			stale := Outside{Netns: n, HostLink: n}
			errs = append(errs, stale.Close())
		}
	}
	return errors.Join(errs...)
}

// OutsideNetnsPrefix starts the names of every check's outside namespace
// and link, so a reset can find them after a crash.
const OutsideNetnsPrefix = "lab-chk-"

// NewOutside builds an outside network. It routes the lab's 10.200.0.0/16
// back through the host, so a packet that arrives without NAT still gets
// an answer and the check can tell "not masqueraded" from "lost". Close
// removes it.
func NewOutside() (*Outside, error) {
	// One outside at a time on this machine: two would put 198.51.100.2 on
	// two links. Under the lock, any outside left is a crashed check's.
	unlock, err := netns.Lock(OutsideLock)
	if err != nil {
		return nil, fmt.Errorf("build outside network: %w", err)
	}
	if err := removeStaleOutsides(); err != nil {
		unlock()
		return nil, err
	}
	b := make([]byte, 2)
	_, _ = rand.Read(b)
	name := OutsideNetnsPrefix + hex.EncodeToString(b)
	o := &Outside{
		Netns: name, HostLink: name, unlock: unlock,
		Addr:     netip.MustParseAddr("198.51.100.1"),
		HostAddr: netip.MustParseAddr("198.51.100.2"),
	}
	if err := o.build(); err != nil {
		return nil, errors.Join(fmt.Errorf("build outside network: %w", err), o.Close())
	}
	return o, nil
}

func (o *Outside) build() error {
	if err := netns.CreateNamed(o.Netns); err != nil {
		return err
	}
	f, err := netns.Open(o.Netns)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := netdev.AddVethPeerIn(o.HostLink, "eth0", f); err != nil {
		return err
	}
	bits := OutsidePrefix.Bits()
	steps := []func() error{
		func() error { return netdev.AddAddr("", o.HostLink, netip.PrefixFrom(o.HostAddr, bits)) },
		func() error { return netdev.SetUp("", o.HostLink) },
		func() error { return netdev.AddAddr(o.Netns, "eth0", netip.PrefixFrom(o.Addr, bits)) },
		func() error { return netdev.SetUp(o.Netns, "eth0") },
		func() error { return netdev.SetUp(o.Netns, "lo") },
		func() error {
			return netdev.AddRoute(o.Netns, netip.MustParsePrefix("10.200.0.0/16"), o.HostAddr)
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	// Until both ends are operational, what is sent is dropped.
	return errors.Join(netdev.WaitRunning("", o.HostLink, 2*time.Second), netdev.WaitRunning(o.Netns, "eth0", 2*time.Second))
}

// Close deletes the veth (both ends go together) and the namespace, then
// lets the next check build its outside.
func (o *Outside) Close() error {
	err := errors.Join(netdev.DeleteLink("", o.HostLink), netns.KillAll(o.Netns), netns.DeleteNamed(o.Netns))
	if o.unlock != nil {
		o.unlock()
		o.unlock = nil
	}
	return err
}
