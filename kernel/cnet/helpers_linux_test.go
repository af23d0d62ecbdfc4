package cnet

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lab-edu/lab/kernel/kerneltest"
	"github.com/lab-edu/lab/kernel/netdev"
	"github.com/lab-edu/lab/kernel/netns"
	"github.com/lab-edu/lab/kernel/reexec"
)

func TestMain(m *testing.M) {
	if reexec.Init() {
		return
	}
	os.Exit(m.Run())
}

// needHost skips without root and iptables, and registers the cleanup that
// gives the host back once the test's containers are gone: the bridge and
// its shared rules (unless another test binary's containers still use
// them), and net.ipv4.ip_forward as it was (Teardown turns it off again
// when the bridge it removes was made while it was off; the check here
// covers a bridge another test made).
func needHost(t testing.TB) {
	t.Helper()
	kerneltest.Requires(t, kerneltest.Root, kerneltest.Tool("iptables"), kerneltest.Tool("iptables-save"))
	forward, err := netdev.Forwarding("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		waitVethsGone(t)
		removed, err := Teardown(context.Background())
		if err != nil {
			t.Errorf("teardown: %v", err)
		}
		if removed && !forward {
			if err := netdev.SetForwarding("", false); err != nil {
				t.Error(err)
			}
		}
	})
}

// testVeths are the host veth ends this test binary created; the kernel
// deletes them some 25 ms after their namespace is closed.
var testVeths struct {
	sync.Mutex
	names []string
}

func waitVethsGone(t testing.TB) {
	t.Helper()
	host, err := netdev.OpenHost()
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		links, err := host.LinkSummaries()
		if err != nil {
			t.Fatal(err)
		}
		testVeths.Lock()
		left := slices.ContainsFunc(links, func(l netdev.LinkSummary) bool { return slices.Contains(testVeths.names, l.Name) })
		testVeths.Unlock()
		if !left {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("test veths still there after 5 s")
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// newID makes a container id like kernel/container's: 64 hex digits.
func newID(testing.TB) string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newContainer makes an anonymous network namespace, standing in for a
// container's, that lives until the test ends (or until closed).
func newContainer(t testing.TB) *os.File {
	t.Helper()
	f, err := netns.NewAnonymous()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// attach attaches ns and registers its Detach.
func attach(t testing.TB, root string, ns *os.File, ports ...Port) Endpoint {
	t.Helper()
	id := newID(t)
	ep, err := Attach(context.Background(), root, id, int(ns.Fd()), ports)
	if err != nil {
		t.Fatal(err)
	}
	testVeths.Lock()
	testVeths.names = append(testVeths.names, ep.HostVeth)
	testVeths.Unlock()
	t.Cleanup(func() {
		if err := Detach(context.Background(), root, id); err != nil {
			t.Error(err)
		}
	})
	return ep
}

// serve listens on addr inside ns (nil: the host) and answers each
// connection with one line, "NAME sees REMOTE-ADDRESS", so a client
// learns which address the server saw it come from (NAT rewrites it).
func serve(t testing.TB, ns *os.File, name string, addr netip.AddrPort) netip.AddrPort {
	t.Helper()
	var l *net.TCPListener
	err := inNamespace(ns, func() error {
		var err error
		l, err = net.ListenTCP("tcp4", net.TCPAddrFromAddrPort(addr))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go answer(c.(*net.TCPConn), name)
		}
	}()
	return l.Addr().(*net.TCPAddr).AddrPort()
}

// answer sends the line, then lets the client close first and waits for
// it: a socket closed while its FIN is still unanswered lingers in the
// kernel, retransmitting for minutes, and keeps its network namespace
// (and so a container's veth) alive all that time.
func answer(c *net.TCPConn, name string) {
	defer c.Close()
	remote := c.RemoteAddr().(*net.TCPAddr).AddrPort().Addr().Unmap()
	fmt.Fprintf(c, "%s sees %s\n", name, remote)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _ = io.Copy(io.Discard, c)
}

// inNamespace runs fn in ns; a nil ns is the host's.
func inNamespace(ns *os.File, fn func() error) error {
	if ns == nil {
		return fn()
	}
	return netns.DoFile(ns, fn)
}

// ask connects from ns (nil: the host) to addr and returns the server's
// line.
func ask(ns *os.File, addr netip.AddrPort) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var c net.Conn
	err := inNamespace(ns, func() error {
		var d net.Dialer
		var err error
		c, err = d.DialContext(ctx, "tcp4", addr.String())
		return err
	})
	if err != nil {
		return "", err
	}
	// Close with a reset (SO_LINGER 0): the socket is gone at once, not
	// left behind to finish its FIN handshake (see answer).
	defer c.Close()
	_ = c.(*net.TCPConn).SetLinger(0)
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line), err
}

// mustAsk is ask that wants the answer want.
func mustAsk(t testing.TB, from string, ns *os.File, addr netip.AddrPort, want string) {
	t.Helper()
	got, err := ask(ns, addr)
	if err != nil {
		t.Fatalf("%s to %s: %v", from, addr, err)
	}
	if got != want {
		t.Fatalf("%s to %s: answer %q, want %q", from, addr, got, want)
	}
}

// freePort picks a host port that nothing holds and no rule publishes.
func freePort(t testing.TB) uint16 {
	t.Helper()
	for range 100 {
		b := make([]byte, 2)
		_, _ = rand.Read(b)
		p := Port{Proto: "tcp", HostPort: 20000 + (uint16(b[0])<<8|uint16(b[1]))%10000, ContainerPort: 1}
		if checkHostPorts([]Port{p}) == nil {
			return p.HostPort
		}
	}
	t.Fatal("no free port")
	return 0
}

// outside is a stand-in for the world beyond the host: a namespace joined
// to the host by a veth, on 203.0.113.0/24 (TEST-NET-3, RFC 5737: no real
// machine has these addresses), without any route to the containers'
// 10.88.0.0/16. A container's packet reaches it through the host's
// forwarding, and it can only answer if the host masqueraded the packet
// as its own 203.0.113.2.
type outside struct {
	ns       *os.File
	addr     netip.Addr // 203.0.113.1, inside
	hostAddr netip.Addr // 203.0.113.2, the host's end
}

func newOutside(t testing.TB) *outside {
	t.Helper()
	o := &outside{
		ns:       newContainer(t),
		addr:     netip.MustParseAddr("203.0.113.1"),
		hostAddr: netip.MustParseAddr("203.0.113.2"),
	}
	b := make([]byte, 2)
	_, _ = rand.Read(b)
	link := "lab-t-b-" + hex.EncodeToString(b)
	if err := netdev.AddVethPeerIn(link, "eth0", o.ns); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := netdev.DeleteLink("", link); err != nil {
			t.Error(err)
		}
	})
	if err := netdev.AddAddr("", link, netip.PrefixFrom(o.hostAddr, 24)); err != nil {
		t.Fatal(err)
	}
	if err := netdev.SetUp("", link); err != nil {
		t.Fatal(err)
	}
	in, err := netdev.OpenNamespace(o.ns)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	for _, err := range []error{
		in.AddAddr("eth0", netip.PrefixFrom(o.addr, 24)), in.SetUp("eth0"), in.SetUp("lo"),
		in.WaitRunning("eth0", 2*time.Second),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return o
}

// kerneltestRoot skips without root.
func kerneltestRoot(t testing.TB) {
	t.Helper()
	kerneltest.Requires(t, kerneltest.Root)
}
