package netdev

import (
	"net/netip"
	"slices"
	"testing"
)

func TestSameSubnet(t *testing.T) {
	p := netip.MustParsePrefix
	tests := []struct {
		a, b string
		want bool
	}{
		{"10.200.1.1/24", "10.200.1.2/24", true},
		{"10.200.1.1/24", "10.200.2.2/24", false},
		{"10.200.1.1/16", "10.200.2.2/24", true}, // the shorter prefix decides
		{"10.200.1.1/24", "fd00::1/64", false},
	}
	for _, tt := range tests {
		if got := SameSubnet(p(tt.a), p(tt.b)); got != tt.want {
			t.Errorf("SameSubnet(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestParseRule(t *testing.T) {
	tests := []struct {
		line string
		want Rule
		ok   bool
	}{
		{"-P POSTROUTING ACCEPT", Rule{}, false},
		{"-N DOCKER", Rule{}, false},
		{
			"-A POSTROUTING -s 10.200.2.0/24 ! -o lab-br0 -j MASQUERADE",
			Rule{Table: "nat", Chain: "POSTROUTING", Spec: []string{"-s", "10.200.2.0/24", "!", "-o", "lab-br0", "-j", "MASQUERADE"}},
			true,
		},
		{
			`-A PREROUTING -p tcp -m comment --comment "lab web" -j DNAT --to-destination 10.200.2.3:80`,
			Rule{Table: "nat", Chain: "PREROUTING", Spec: []string{"-p", "tcp", "-m", "comment", "--comment", "lab web", "-j", "DNAT", "--to-destination", "10.200.2.3:80"}},
			true,
		},
	}
	for _, tt := range tests {
		got, ok := ParseRule("nat", tt.line)
		if ok != tt.ok || got.Table != tt.want.Table || got.Chain != tt.want.Chain || !slices.Equal(got.Spec, tt.want.Spec) {
			t.Errorf("ParseRule(%q) = %+v, %v, want %+v, %v", tt.line, got, ok, tt.want, tt.ok)
		}
	}
}

func TestRuleHelpers(t *testing.T) {
	r := Masquerade(netip.MustParsePrefix("10.200.2.0/24"), "lab-br0")
	if got, want := r.String(), "iptables -t nat -A POSTROUTING -s 10.200.2.0/24 ! -o lab-br0 -j MASQUERADE"; got != want {
		t.Errorf("Masquerade().String() = %q, want %q", got, want)
	}
	if !r.Negated("-o") || r.Negated("-s") {
		t.Errorf("Negated: -o %v, -s %v; want true, false", r.Negated("-o"), r.Negated("-s"))
	}
	if r.Target() != "MASQUERADE" || !r.Mentions("10.200.") {
		t.Errorf("Target() = %q, Mentions(10.200.) = %v", r.Target(), r.Mentions("10.200."))
	}
	d := PublishPort(8080, netip.MustParseAddrPort("10.200.2.3:80"))
	if to, _ := d.Arg("--to-destination"); to != "10.200.2.3:80" {
		t.Errorf("PublishPort --to-destination = %q", to)
	}
	if port, _ := d.Arg("--dport"); port != "8080" {
		t.Errorf("PublishPort --dport = %q", port)
	}
}

func TestRouteString(t *testing.T) {
	r := Route{Dst: netip.MustParsePrefix("0.0.0.0/0"), Gateway: netip.MustParseAddr("10.200.2.1"), Dev: "lab-red1"}
	if got, want := r.String(), "default via 10.200.2.1 dev lab-red1"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
