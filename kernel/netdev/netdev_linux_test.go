package netdev

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lab-edu/lab/kernel/kerneltest"
	"github.com/lab-edu/lab/kernel/netns"
)

// twoNamespaces makes lab-test-XXXX-a and -b, deleted when the test ends.
func twoNamespaces(t *testing.T) (string, string) {
	t.Helper()
	b := make([]byte, 2)
	_, _ = rand.Read(b)
	base := "lab-t" + hex.EncodeToString(b)
	a, c := base+"a", base+"b"
	for _, n := range []string{a, c} {
		if err := netns.CreateNamed(n); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = netns.KillAll(n); _ = netns.DeleteNamed(n) })
	}
	return a, c
}

// wire joins a and b with a veth pair a0/b0 holding 10.200.250.1 and .2.
func wire(t *testing.T, a, b string) (string, string) {
	t.Helper()
	la, lb := a+"0", b+"0"
	if err := AddVeth(la, lb); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = DeleteLink("", la) })
	must(t, SetNetns("", la, a), SetNetns("", lb, b),
		AddAddr(a, la, netip.MustParsePrefix("10.200.250.1/24")),
		AddAddr(b, lb, netip.MustParsePrefix("10.200.250.2/24")),
		SetUp(a, la), SetUp(b, lb))
	return la, lb
}

func must(t *testing.T, errs ...error) {
	t.Helper()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestVethAcrossNamespaces(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root)
	a, b := twoNamespaces(t)
	la, lb := wire(t, a, b)

	l, err := LinkByName(a, la)
	if err != nil {
		t.Fatal(err)
	}
	if l.Type != "veth" || !l.Up || l.PeerNetnsID < 0 {
		t.Errorf("LinkByName(%s, %s) = %+v, want an up veth whose peer is in another netns", a, la, l)
	}
	if got := l.IPv4(); len(got) != 1 || got[0] != netip.MustParsePrefix("10.200.250.1/24") {
		t.Errorf("IPv4() = %v, want [10.200.250.1/24]", got)
	}
	peer, err := PeerOf(a, la)
	if err != nil {
		t.Fatal(err)
	}
	if !peer.Known || peer.Netns != b || peer.Name != lb {
		t.Errorf("PeerOf(%s, %s) = %+v, want %s in %s", a, la, peer, lb, b)
	}
	routes, err := Routes(a)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(routes, func(r Route) bool { return r.Dst == netip.MustParsePrefix("10.200.250.0/24") && r.Dev == la }) {
		t.Errorf("Routes(%s) = %v, want the connected route 10.200.250.0/24 dev %s", a, routes, la)
	}
	if _, err := LinkByName(a, "nope"); err == nil {
		t.Error("LinkByName(nope) = nil error")
	}
}

func TestVethPeersOnTheHost(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root)
	must(t, AddVeth("lab-tph0", "lab-tph1"))
	t.Cleanup(func() { _ = DeleteLink("", "lab-tph0") })
	peer, err := PeerOf("", "lab-tph0")
	if err != nil || peer.Netns != "" || peer.Name != "lab-tph1" {
		t.Errorf("PeerOf(host, lab-tph0) = %+v, %v, want lab-tph1 on the host", peer, err)
	}
	must(t, DeleteLink("", "lab-tph0"), DeleteLink("", "lab-tph0"))
	if _, err := LinkByName("", "lab-tph1"); err == nil {
		t.Error("deleting one end of a veth left the other")
	}
}

func TestTCPBetweenNamespaces(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root)
	a, b := twoNamespaces(t)
	wire(t, a, b)
	l, err := ListenTCP(b, netip.MustParseAddrPort("10.200.250.2:0"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_ = l.SetDeadline(time.Now().Add(2 * time.Second))
	go func() {
		c, err := l.Accept()
		if err == nil {
			_, _ = io.WriteString(c, "hi")
			c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c, err := DialTCP(ctx, a, l.Addr().(interface{ AddrPort() netip.AddrPort }).AddrPort())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf, _ := io.ReadAll(c)
	if string(buf) != "hi" {
		t.Errorf("read %q, want hi", buf)
	}
	socks, err := TCPSockets(b)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(socks, func(s Socket) bool { return s.State == "listen" && s.Local.Addr().String() == "10.200.250.2" }) {
		t.Errorf("TCPSockets(%s) = %v, want the listener", b, socks)
	}
	// The host cannot reach it: the address lives only inside the namespaces.
	hctx, hcancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer hcancel()
	if c, err := DialTCP(hctx, "", l.Addr().(interface{ AddrPort() netip.AddrPort }).AddrPort()); err == nil {
		c.Close()
		t.Error("the host reached a listener inside a namespace without any route")
	}
}

func TestBridgeAndForwarding(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root)
	a, _ := twoNamespaces(t)
	must(t, AddBridge("lab-tbr0"))
	t.Cleanup(func() { _ = DeleteLink("", "lab-tbr0") })
	must(t, AddVeth("lab-tbp0", "lab-tbp1"))
	t.Cleanup(func() { _ = DeleteLink("", "lab-tbp0") })
	must(t, SetMaster("lab-tbp0", "lab-tbr0"))
	l, err := LinkByName("", "lab-tbp0")
	if err != nil || l.Master != "lab-tbr0" {
		t.Errorf("after SetMaster: %+v, %v, want master lab-tbr0", l, err)
	}
	if br, _ := LinkByName("", "lab-tbr0"); br.Type != "bridge" {
		t.Errorf("lab-tbr0 type %q, want bridge", br.Type)
	}
	// ip_forward is per namespace: switching it in a leaves the host alone.
	host, err := Forwarding("")
	if err != nil {
		t.Fatal(err)
	}
	must(t, SetForwarding(a, !host))
	if got, _ := Forwarding(a); got != !host {
		t.Errorf("Forwarding(%s) = %v, want %v", a, got, !host)
	}
	if got, _ := Forwarding(""); got != host {
		t.Errorf("host forwarding changed to %v by SetForwarding(%s)", got, a)
	}
}

func TestRules(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root, kerneltest.Tool("iptables"))
	r := Masquerade(netip.MustParsePrefix("10.200.251.0/24"), "lab-tbr9")
	must(t, AddRule(r), AddRule(r)) // the second is a no-op
	t.Cleanup(func() { _ = DeleteRule(r) })
	rules, err := Rules("nat", "POSTROUTING")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, got := range rules {
		if slices.Equal(got.Spec, r.Spec) {
			n++
		}
	}
	if n != 1 {
		t.Errorf("Rules(nat, POSTROUTING) has %d copies of %q, want 1: %v", n, r, rules)
	}
	// The iptables the learner runs sees the same rule.
	out, err := exec.Command("iptables", "-t", "nat", "-S", "POSTROUTING").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(strings.Split(string(out), "\n"), "-A POSTROUTING -s 10.200.251.0/24 ! -o lab-tbr9 -j MASQUERADE") {
		t.Errorf("iptables -t nat -S POSTROUTING = %q, want the rule", out)
	}
	must(t, DeleteRulesWhere("nat", "POSTROUTING", func(r Rule) bool { return r.Mentions("10.200.251.") }))
	rules, _ = Rules("nat", "POSTROUTING")
	if slices.ContainsFunc(rules, func(r Rule) bool { return r.Mentions("10.200.251.") }) {
		t.Errorf("DeleteRulesWhere left %v", rules)
	}
	if p, err := Policy("filter", "FORWARD"); err != nil || p == "" {
		t.Errorf("Policy(filter, FORWARD) = %q, %v", p, err)
	}
}
