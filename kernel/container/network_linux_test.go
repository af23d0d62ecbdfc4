package container

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lab-edu/lab/kernel/cnet"
	"github.com/lab-edu/lab/kernel/kerneltest"
	"github.com/lab-edu/lab/kernel/netdev"
)

// The init builds the root file system while lab finishes the network,
// and execs the command only then: the command's first look at eth0
// finds it addressed, up and routed, and /etc/hosts names its address.
func TestBridgeReadyAtExec(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Tool("iptables"))
	_, err := netdev.LinkByName("", cnet.Bridge)
	bridgeBefore := err == nil
	if err != nil && !errors.Is(err, netdev.ErrNoLink) {
		t.Fatal(err)
	}
	forward, err := netdev.Forwarding("")
	if err != nil {
		t.Fatal(err)
	}
	root := newRoot(t) // its check runs after the bridge's teardown below
	t.Cleanup(func() {
		if bridgeBefore {
			return
		}
		if _, err := Prune(context.Background(), root, true); err != nil {
			t.Errorf("prune: %v", err)
		}
		// The kernel deletes a veth pair shortly after its namespace goes:
		// until then lab0 still has a port and stays.
		for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if _, err := cnet.Teardown(context.Background()); err != nil {
				t.Error(err)
				break
			}
			if _, err := netdev.LinkByName("", cnet.Bridge); errors.Is(err, netdev.ErrNoLink) {
				break
			}
		}
		if err := netdev.SetForwarding("", forward); err != nil {
			t.Error(err)
		}
	})
	script := strings.Join([]string{
		`echo "addr=$(ip -4 -o addr show eth0 | awk '{print $4}')"`,
		`echo "route=$(ip route show default)"`,
		`echo "state=$(cat /sys/class/net/eth0/operstate)"`,
		`echo "hosts=$(grep -w "$(hostname)" /etc/hosts | awk '{print $1}')"`,
	}, "; ")
	for i := range 5 {
		code, out, errOut := run(t, root, Spec{Net: NetBridge, Remove: true, Cmd: []string{"sh", "-c", script}})
		if code != 0 {
			t.Fatalf("run %d: exit %d: %s%s", i, code, out, errOut)
		}
		got := map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			k, v, _ := strings.Cut(line, "=")
			got[k] = v
		}
		addr, _, _ := strings.Cut(got["addr"], "/")
		if !strings.HasPrefix(addr, "10.88.") || got["state"] != "up" ||
			!strings.HasPrefix(got["route"], "default via 10.88.0.1 dev eth0") || got["hosts"] != addr {
			t.Fatalf("run %d: the command's first look at its network: %q, want an address of 10.88.0.0/16, "+
				"state up, the default route via 10.88.0.1 and /etc/hosts naming the address", i, got)
		}
	}
}
