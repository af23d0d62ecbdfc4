package netnslab

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/checker/probe"
	"github.com/lab-edu/lab/kernel/netdev"
	knetns "github.com/lab-edu/lab/kernel/netns"
	"github.com/lab-edu/lab/steps"
)

// The published port: host port 8080 to port 80 of the server in lab-blue.
const (
	hostPort   = 8080
	serverPort = 80
)

var serverAddr = netip.AddrPortFrom(bridgeAddr[blue].Addr(), serverPort)

// PublishStep: a server in lab-blue reachable through host port 8080.
var PublishStep = steps.Step{
	ID:    "netns/publish",
	Title: "Publish a port, like docker run -p 8080:80",
	Check: checker.All("host port 8080 reaches the server in lab-blue",
		serverListening, defaultRoute(blue), hostForwards, publishedPort),
	Solve: func(ctx context.Context, env *steps.Env) error {
		return run(
			func() error { return recordForwarding(env) },
			func() error { return netdev.SetForwarding("", true) },
			func() error { return ignoreExist(netdev.AddDefaultRoute(blue, gatewayIP.Addr())) },
			func() error { return startServer(env) },
			func() error { return netdev.AddRule(netdev.PublishPort(hostPort, serverAddr)) },
		)
	},
	Cleanup: func(ctx context.Context, env *steps.Env) error {
		return errors.Join(
			knetns.KillAll(blue),
			deleteLabRules([2]string{"nat", "PREROUTING"}, [2]string{"nat", "OUTPUT"}),
			os.RemoveAll(filepath.Join(env.Dir, "www")))
	},
}

// busybox is where busybox-static installs it.
const busybox = "/bin/busybox"

// startServer serves {{work}}/www with busybox httpd in lab-blue, detached
// so that it outlives `lab solve`. Cleanup finds it by its namespace.
func startServer(env *steps.Env) error {
	if listening(blue, serverPort) {
		return nil
	}
	www := filepath.Join(env.Dir, "www")
	if err := os.MkdirAll(www, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(www, "index.html"), []byte("hello from lab-blue\n"), 0o644); err != nil {
		return err
	}
	cmd := exec.Command(busybox, "httpd", "-f", "-p", strconv.Itoa(serverPort), "-h", www)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // its own session: no signal from our terminal
	if err := knetns.Start(blue, cmd); err != nil {
		return fmt.Errorf("start busybox httpd in %s: %w", blue, err)
	}
	go func() { _ = cmd.Wait() }() // reap it if it ends while we still run
	// The socket exists once httpd has bound it; wait for that briefly.
	for range 100 {
		if listening(blue, serverPort) {
			return nil
		}
		sleep()
	}
	return fmt.Errorf("busybox httpd in %s: not listening on port %d", blue, serverPort)
}

// listening reports whether something listens on TCP port in ns.
func listening(ns string, port uint16) bool {
	socks, err := netdev.TCPSockets(ns)
	if err != nil {
		return false
	}
	for _, s := range socks {
		if s.State == "listen" && s.Local.Port() == port {
			return true
		}
	}
	return false
}

// serverListening passes when a server listens on port 80 in lab-blue.
func serverListening(ctx context.Context, h checker.Host) checker.Result {
	const title = "a server on port 80 in lab-blue"
	if _, err := netdev.TCPSockets(blue); err != nil {
		return checker.Errored(title, err)
	}
	if !listening(blue, serverPort) {
		return checker.Mismatch(title, "a TCP socket listening on port 80 in lab-blue", "none",
			fmt.Sprintf("start one: mkdir -p %[1]s && ip netns exec lab-blue busybox httpd -p 80 -h %[1]s",
				filepath.Join(h.Workspace(), ID, "www")))
	}
	return checker.Passed(title, "lab-blue listens on TCP port 80")
}

// publishedPort connects from an outside network to the host's port 8080
// and finds the connection arriving at the server in lab-blue.
func publishedPort(ctx context.Context, h checker.Host) checker.Result {
	const title = "host port 8080 leads to lab-blue port 80"
	out, err := probe.NewOutside()
	if err != nil {
		return checker.Errored(title, err)
	}
	defer out.Close()
	target := netip.AddrPortFrom(out.HostAddr, hostPort)
	dctx, cancel := context.WithTimeout(ctx, probe.TrafficTimeout)
	defer cancel()
	c, err := netdev.DialTCP(dctx, out.Netns, target)
	if err != nil {
		return checker.Failed(title,
			fmt.Sprintf("a client at %s could not connect to the host's %s: %s", out.Addr, target, probe.Why(err)),
			forwardDropHint()+dnatHint())
	}
	defer c.Close()
	client := c.LocalAddr().(interface{ AddrPort() netip.AddrPort }).AddrPort()
	socks, err := netdev.TCPSockets(blue)
	if err != nil {
		return checker.Errored(title, err)
	}
	for _, s := range socks {
		if s.State == "established" && s.Local.Port() == serverPort && s.Remote.Addr().Unmap() == client.Addr() && s.Remote.Port() == client.Port() {
			return checker.Passed(title, fmt.Sprintf("%s -> %s arrived in lab-blue at %s", client, target, s.Local))
		}
	}
	return checker.Failed(title,
		fmt.Sprintf("the connection from %s to %s was accepted, but not by the server on port 80 in lab-blue", client, target),
		"is another program listening on port 8080? "+dnatHint())
}

// dnatHint reads the DNAT rules for host port 8080 and says what is wrong
// with them.
func dnatHint() string {
	add := fmt.Sprintf("iptables -t nat -A PREROUTING -p tcp --dport %d -j DNAT --to-destination %s", hostPort, serverAddr)
	rules, err := netdev.Rules("nat", "PREROUTING")
	if err != nil {
		return add
	}
	for _, r := range rules {
		port, _ := r.Arg("--dport")
		if r.Target() != "DNAT" || port != strconv.Itoa(hostPort) {
			continue
		}
		to, _ := r.Arg("--to-destination")
		dest, err := netip.ParseAddrPort(to)
		switch {
		case err != nil:
			return fmt.Sprintf("your rule `%s` sends to %q without a port: give ADDRESS:PORT, %s", r, to, serverAddr)
		case dest.Port() != serverPort:
			return fmt.Sprintf("your rule `%s` sends to port %d, but the server in lab-blue listens on port %d", r, dest.Port(), serverPort)
		case dest.Addr() != serverAddr.Addr():
			return fmt.Sprintf("your rule `%s` sends to %s, which is not lab-blue's address %s", r, dest.Addr(), serverAddr.Addr())
		}
		return fmt.Sprintf("your rule `%s` looks right: check that lab-blue has a default route back via %s", r, gatewayIP.Addr())
	}
	return "no DNAT rule for TCP port 8080 in the nat table's PREROUTING chain: " + add
}
