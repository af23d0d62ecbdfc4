package cli

import (
	"encoding/json"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/lab-edu/lab/kernel/netdev"
)

func TestNetShowArgs(t *testing.T) {
	tests := []struct {
		args    []string
		wantNS  string
		wantErr bool
	}{
		{[]string{"show"}, "", false},
		{[]string{"show", "lab-red"}, "lab-red", false},
		{[]string{"show", "host", "--json"}, "host", false},
		{[]string{"show", "../etc"}, "", true},
		{[]string{"show", "a", "b"}, "", true},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			io, _, _, _ := TestIO()
			var got *netShowOptions
			cmd := newCmdNet(&Factory{IO: io, Euid: func() int { return 0 }}, func(o *netShowOptions) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SilenceErrors, cmd.SilenceUsage = true, true
			err := cmd.Execute()
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err == nil && got.Netns != tt.wantNS {
				t.Errorf("Netns = %q, want %q", got.Netns, tt.wantNS)
			}
		})
	}
}

func fakeNetOptions() (*netShowOptions, *strings.Builder) {
	io, _, _, _ := TestIO()
	red := netdev.State{
		Netns: "lab-red",
		Links: []netdev.Link{
			{Index: 1, Name: "lo", Type: "device", Up: true, OperState: "unknown", Addrs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8")}},
			{Index: 5, Name: "lab-red0", Type: "veth", Up: true, OperState: "up", PeerIndex: 4, PeerNetnsID: 1, Addrs: []netip.Prefix{netip.MustParsePrefix("10.200.1.1/24")}},
		},
		Routes: []netdev.Route{{Dst: netip.MustParsePrefix("10.200.1.0/24"), Dev: "lab-red0"}},
		Peers:  map[string]netdev.Peer{"lab-red0": {Netns: "lab-blue", Name: "lab-blue0", Index: 4, Known: true}},
	}
	sb := &strings.Builder{}
	io.Out = sb
	return &netShowOptions{
		IO: io, Euid: func() int { return 0 },
		List:    func() ([]string, error) { return []string{"lab-red", "plain"}, nil },
		IsNetns: func(n string) bool { return n != "plain" },
		Show: func(ns string) (netdev.State, error) {
			if ns == "lab-red" {
				return red, nil
			}
			return netdev.State{}, errors.New("unexpected " + ns)
		},
	}, sb
}

func TestNetShowText(t *testing.T) {
	opts, out := fakeNetOptions()
	opts.Netns = "lab-red"
	if err := runNetShow(opts); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"netns lab-red", "lab-red0", "peer lab-blue0 in lab-blue", "10.200.1.1/24", "UP (up)", "10.200.1.0/24 dev lab-red0"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestNetShowAllSkipsPlainFilesAndJSON(t *testing.T) {
	opts, out := fakeNetOptions()
	opts.JSON = true
	if err := runNetShow(opts); err != nil {
		t.Fatal(err)
	}
	var states []netdev.State
	if err := json.Unmarshal([]byte(out.String()), &states); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	if len(states) != 1 || states[0].Netns != "lab-red" || states[0].Links[1].Addrs[0].String() != "10.200.1.1/24" {
		t.Errorf("states = %+v, want lab-red only", states)
	}
}

func TestNetShowBadNamespace(t *testing.T) {
	for _, ns := range []string{"lab-nope", "plain"} {
		opts, _ := fakeNetOptions()
		opts.Netns = ns
		err := runNetShow(opts)
		if exitCode(err) != ExitUsage {
			t.Errorf("runNetShow(%s) = %v (exit %d), want exit %d", ns, err, exitCode(err), ExitUsage)
		}
	}
	opts, _ := fakeNetOptions()
	opts.Euid = func() int { return 1000 }
	if err := runNetShow(opts); exitCode(err) != ExitEnv {
		t.Errorf("not root: %v, want exit %d", err, ExitEnv)
	}
}
