package netdev

import (
	"context"
	"fmt"
	"net"
	"net/netip"

	"github.com/lab-edu/lab/kernel/netns"
)

// inNetns runs fn in ns ("" runs it right here, in the host's namespace).
func inNetns(ns string, fn func() error) error {
	if ns == "" {
		return fn()
	}
	return netns.Do(ns, fn)
}

// ListenTCP opens a TCP listener in ns on addr (port 0 picks a free port).
// The socket is created on a thread inside ns and belongs to ns for good;
// Accept then works from any goroutine.
//
// Equivalent to: `ip netns exec NS busybox nc -l -p PORT`.
func ListenTCP(ns string, addr netip.AddrPort) (*net.TCPListener, error) {
	var l *net.TCPListener
	err := inNetns(ns, func() error {
		var err error
		l, err = net.ListenTCP("tcp4", net.TCPAddrFromAddrPort(addr))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listen on %s in %s: %w", addr, where(ns), err)
	}
	return l, nil
}

// DialTCP connects from ns to addr, giving up when ctx ends.
//
// Equivalent to: `ip netns exec NS busybox nc ADDR PORT`.
func DialTCP(ctx context.Context, ns string, addr netip.AddrPort) (*net.TCPConn, error) {
	var c net.Conn
	err := inNetns(ns, func() error {
		var d net.Dialer
		var err error
		c, err = d.DialContext(ctx, "tcp4", addr.String())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("connect from %s to %s: %w", where(ns), addr, err)
	}
	return c.(*net.TCPConn), nil
}
