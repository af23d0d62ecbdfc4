package cnet

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/lab-edu/lab/kernel/netdev"
)

func TestParsePort(t *testing.T) {
	good := map[string]Port{
		"8080:80":              {HostPort: 8080, ContainerPort: 80, Proto: "tcp"},
		"8080:80/udp":          {HostPort: 8080, ContainerPort: 80, Proto: "udp"},
		"127.0.0.1:8080:80":    {HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: 8080, ContainerPort: 80, Proto: "tcp"},
		"0.0.0.0:53:53/udp":    {HostPort: 53, ContainerPort: 53, Proto: "udp"},
		"65535:1/tcp":          {HostPort: 65535, ContainerPort: 1, Proto: "tcp"},
		"10.0.0.1:1:65535/tcp": {HostIP: netip.MustParseAddr("10.0.0.1"), HostPort: 1, ContainerPort: 65535, Proto: "tcp"},
	}
	for s, want := range good {
		got, err := ParsePort(s)
		if err != nil || got != want {
			t.Errorf("ParsePort(%q) = %+v, %v; want %+v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "80", "8080:", ":80", "8080:80/sctp", "0:80", "8080:0", "70000:80",
		"a:80", "::1:8080:80", "1.2.3:8080:80", "1:2:3:4", "8080:80/"} {
		if p, err := ParsePort(s); err == nil {
			t.Errorf("ParsePort(%q) = %+v, want an error", s, p)
		} else if !strings.Contains(err.Error(), s) {
			t.Errorf("ParsePort(%q): error %q does not name the bad value", s, err)
		}
	}
}

func TestPortString(t *testing.T) {
	for _, s := range []string{"8080:80/tcp", "127.0.0.1:53:53/udp"} {
		p, err := ParsePort(s)
		if err != nil || p.String() != s {
			t.Errorf("%q -> %+v -> %q (%v)", s, p, p.String(), err)
		}
	}
}

func TestParseMode(t *testing.T) {
	for in, want := range map[string]string{"": "bridge", "bridge": "bridge", "none": "none", "host": "host"} {
		if got, err := ParseMode(in); err != nil || got != want {
			t.Errorf("ParseMode(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseMode("container:x"); err == nil {
		t.Error("ParseMode accepted container:x")
	}
}

func TestHostVethName(t *testing.T) {
	id := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	if got := HostVethName(id); got != "labv0123456789a" || len(got) > 15 {
		t.Errorf("HostVethName = %q", got)
	}
	if got := containerComment(id); got != "lab-ctr:0123456789ab" {
		t.Errorf("containerComment = %q", got)
	}
}

func TestPortRules(t *testing.T) {
	id := "0123456789abcdef"
	addr := netip.MustParseAddr("10.88.0.5")
	rules := portRules(id, addr, Port{HostPort: 8080, ContainerPort: 80, Proto: "tcp"})
	want := []string{
		"iptables -t nat -A PREROUTING -m addrtype --dst-type LOCAL -p tcp -m tcp --dport 8080 -m comment --comment lab-ctr:0123456789ab -j DNAT --to-destination 10.88.0.5:80",
		"iptables -t nat -A OUTPUT -m addrtype --dst-type LOCAL -p tcp -m tcp --dport 8080 -m comment --comment lab-ctr:0123456789ab -j DNAT --to-destination 10.88.0.5:80",
	}
	for i, r := range rules {
		if r.String() != want[i] {
			t.Errorf("rule %d:\n got %s\nwant %s", i, r, want[i])
		}
	}
	one := portRules(id, addr, Port{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: 53, ContainerPort: 5353, Proto: "udp"})
	if got := one[0].String(); !strings.Contains(got, "-d 127.0.0.1/32 -p udp -m udp --dport 53") {
		t.Errorf("with a host address: %s", got)
	}
	// What a rule publishes reads back, as iptables -S prints it.
	line := `-A PREROUTING -d 127.0.0.1/32 -p udp -m udp --dport 53 -m comment --comment "lab-ctr:0123456789ab" -j DNAT --to-destination 10.88.0.5:5353`
	r, _ := netdev.ParseRule("nat", line)
	p, ok := publishedBy(r)
	if id12, isCtr := isContainerRule(r); !ok || !isCtr || id12 != "0123456789ab" || p.HostPort != 53 || p.Proto != "udp" || p.HostIP != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("read back %+v %v %q", p, ok, id12)
	}
}

func TestClash(t *testing.T) {
	any80 := Port{HostPort: 80, Proto: "tcp"}
	lo80 := Port{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: 80, Proto: "tcp"}
	other80 := Port{HostIP: netip.MustParseAddr("192.0.2.1"), HostPort: 80, Proto: "tcp"}
	cases := []struct {
		a, b Port
		want bool
	}{
		{any80, any80, true},
		{any80, lo80, true},
		{lo80, other80, false},
		{lo80, lo80, true},
		{any80, Port{HostPort: 80, Proto: "udp"}, false},
		{any80, Port{HostPort: 81, Proto: "tcp"}, false},
	}
	for _, c := range cases {
		if got := clash(c.a, c.b); got != c.want {
			t.Errorf("clash(%s, %s) = %v", c.a, c.b, got)
		}
	}
	any80.ContainerPort, lo80.ContainerPort = 80, 81
	if err := checkOwnPorts([]Port{any80, lo80}); !errors.Is(err, ErrPortInUse) {
		t.Errorf("checkOwnPorts: %v", err)
	}
}

func TestFirstFree(t *testing.T) {
	a := func(s string) netip.Addr { return netip.MustParseAddr(s) }
	if got, _ := firstFree(nil); got != a("10.88.0.2") {
		t.Errorf("empty: %s", got)
	}
	used := map[netip.Addr]bool{a("10.88.0.2"): true, a("10.88.0.3"): true, a("10.88.0.5"): true}
	if got, _ := firstFree(used); got != a("10.88.0.4") {
		t.Errorf("gap: %s", got)
	}
	if got := lastAddr(Subnet); got != a("10.88.255.255") {
		t.Errorf("broadcast: %s", got)
	}
	// Full: every address from .0.2 to .255.254 taken.
	full := map[netip.Addr]bool{}
	for x := a("10.88.0.2"); x != a("10.88.255.255"); x = x.Next() {
		full[x] = true
	}
	if got, err := firstFree(full); err == nil {
		t.Errorf("full subnet gave %s", got)
	}
}

func TestLeaseAndAliasNames(t *testing.T) {
	id := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	ep := Endpoint{ID: id, Addr: netip.MustParsePrefix("10.88.1.2/16")}
	addr, got, ok := parseLeaseFile(leaseFile(ep))
	if !ok || got != id || addr != ep.Addr.Addr() {
		t.Errorf("lease file %q read back as %s %q %v", leaseFile(ep), addr, got, ok)
	}
	for _, bad := range []string{"x.json", "10.88.1.2_ZZ.json", "10.88.1.2_" + id + ".tmp", "nope_" + id + ".json"} {
		if _, _, ok := parseLeaseFile(bad); ok {
			t.Errorf("parseLeaseFile(%q) accepted", bad)
		}
	}
	a, gotID, root, ok := parseAlias(vethAlias(ep, "/var/lib/my lab"))
	if !ok || a != ep.Addr.Addr() || gotID != id || root != "/var/lib/my lab" {
		t.Errorf("alias read back as %s %q %q %v", a, gotID, root, ok)
	}
	long := vethAlias(ep, "/"+strings.Repeat("x", 300))
	if _, _, root, ok := parseAlias(long); len(long) > 255 || !ok || root != "?" {
		t.Errorf("long alias %d bytes, root %q", len(long), root)
	}
}
