package probe

import (
	"crypto/rand"
	"encoding/hex"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/kernel/kerneltest"
	"github.com/lab-edu/lab/kernel/netdev"
	"github.com/lab-edu/lab/kernel/netns"
)

// probeNamespaces makes n fresh namespaces lab-tpXXXXa, b, ... with lo
// up, deleted when the test ends.
func probeNamespaces(t *testing.T, n int) []string {
	t.Helper()
	kerneltest.Requires(t, kerneltest.Root)
	b := make([]byte, 2)
	_, _ = rand.Read(b)
	var names []string
	for i := range n {
		name := "lab-tp" + hex.EncodeToString(b) + string(rune('a'+i))
		if err := netns.CreateNamed(name); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = netns.DeleteNamed(name) })
		if err := netdev.SetUp(name, "lo"); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	return names
}

// pair joins a and b by a veth a0/b0 with 10.200.249.1 and .2, up.
func pair(t *testing.T, a, b string) {
	t.Helper()
	if err := netdev.AddVeth(a+"0", b+"0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = netdev.DeleteLink("", a+"0") })
	for _, err := range []error{
		netdev.SetNetns("", a+"0", a), netdev.SetNetns("", b+"0", b),
		netdev.AddAddr(a, a+"0", netip.MustParsePrefix("10.200.249.1/24")),
		netdev.AddAddr(b, b+"0", netip.MustParsePrefix("10.200.249.2/24")),
		netdev.SetUp(a, a+"0"), netdev.SetUp(b, b+"0"),
		netdev.WaitRunning(a, a+"0", 2e9), netdev.WaitRunning(b, b+"0", 2e9),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func want(t *testing.T, r checker.Result, status checker.Status, reason string) {
	t.Helper()
	if r.Status != status || !strings.Contains(r.Reason, reason) {
		t.Errorf("%s: status %s, reason %q; want %s with %q", r.Name, r.Status, r.Reason, status, reason)
	}
}

func TestNetnsNamed(t *testing.T) {
	ns := probeNamespaces(t, 1)[0]
	want(t, NetnsNamed(ns)(t.Context(), nil), checker.Pass, "")
	plain := ns + "x"
	if err := os.WriteFile(netns.Path(plain), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Remove(netns.Path(plain)) })
	want(t, NetnsNamed(plain)(t.Context(), nil), checker.Fail, "not a network namespace")
	want(t, NetnsNamed(ns+"y")(t.Context(), nil), checker.Fail, "no such file")
}

func TestVethPeersLinksAndReach(t *testing.T) {
	n := probeNamespaces(t, 3)
	a, b, c := n[0], n[1], n[2]
	pair(t, a, b)
	ctx := t.Context()
	want(t, VethPeers(a, a+"0", b, b+"0")(ctx, nil), checker.Pass, "")
	want(t, VethPeers(a, a+"0", c, "lo")(ctx, nil), checker.Fail, "found "+b+"0 in "+b)
	want(t, LinkRunning(a, a+"0")(ctx, nil), checker.Pass, "")
	want(t, SameSubnet(a, a+"0", b, b+"0")(ctx, nil), checker.Pass, "")

	ea := Endpoint{Netns: a, Addr: netip.MustParseAddr("10.200.249.1")}
	eb := Endpoint{Netns: b, Addr: netip.MustParseAddr("10.200.249.2")}
	r := Reach(ea, eb)(ctx, nil)
	want(t, r, checker.Pass, "")
	if len(r.Evidence) != 2 {
		t.Errorf("Reach evidence = %v, want both directions", r.Evidence)
	}
	// The probe leaves no socket behind in either namespace.
	for _, ns := range []string{a, b} {
		socks, err := netdev.TCPSockets(ns)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range socks {
			if s.State == "listen" || s.State == "established" {
				t.Errorf("socket left in %s after Reach: %+v", ns, s)
			}
		}
	}
	// c has no route to b: the failure is immediate and says so.
	want(t, Reach(Endpoint{Netns: c, Addr: netip.MustParseAddr("127.0.0.1")}, eb)(ctx, nil), checker.Fail, "network is unreachable")

	if err := netdev.SetDown(b, b+"0"); err != nil {
		t.Fatal(err)
	}
	want(t, LinkRunning(b, b+"0")(ctx, nil), checker.Fail, "DOWN")
	want(t, LinkRunning(a, a+"0")(ctx, nil), checker.Fail, "no carrier")
}

func TestOutsideLeavesNothing(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root)
	o, err := NewOutside()
	if err != nil {
		t.Fatal(err)
	}
	l, err := netdev.LinkByName("", o.HostLink)
	if err != nil || !l.Running() {
		t.Errorf("outside link %s: %+v, %v, want it running", o.HostLink, l, err)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(netns.Path(o.Netns)); !os.IsNotExist(err) { //nolint:forbidigo // test
		t.Errorf("%s left: %v", netns.Path(o.Netns), err)
	}
	if _, err := netdev.LinkByName("", o.HostLink); err == nil {
		t.Errorf("link %s left on the host", o.HostLink)
	}
}
