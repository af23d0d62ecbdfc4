package probe

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/kernel/netdev"
)

// TrafficTimeout bounds one TCP exchange of a traffic probe. Inside one
// machine a working path answers in well under a millisecond; a broken one
// either fails at once (no route, refused) or never answers.
const TrafficTimeout = time.Second

// Endpoint is an IPv4 address in a network namespace ("" is the host).
type Endpoint struct {
	Netns string
	Addr  netip.Addr
}

func (e Endpoint) String() string { return e.Addr.String() + " in " + nsLabel(e.Netns) }

// Exchange proves that TCP works from the namespace from to the endpoint
// to: it opens its own listener on to (a free port), connects to it from a
// socket created in from, and checks that a random token crosses. It
// returns the source address the listener saw, which is where NAT shows.
// The listener and both connections are closed before it returns.
func Exchange(ctx context.Context, from string, to Endpoint, timeout time.Duration) (netip.Addr, error) {
	deadline := time.Now().Add(timeout)
	l, err := netdev.ListenTCP(to.Netns, netip.AddrPortFrom(to.Addr, 0))
	if err != nil {
		return netip.Addr{}, err
	}
	defer l.Close()
	_ = l.SetDeadline(deadline)
	token := newToken()
	type accepted struct {
		src netip.Addr
		err error
	}
	got := make(chan accepted, 1)
	go func() {
		c, err := l.AcceptTCP()
		if err != nil {
			got <- accepted{err: err}
			return
		}
		defer c.Close()
		_ = c.SetDeadline(deadline)
		_, err = io.WriteString(c, token)
		got <- accepted{src: c.RemoteAddr().(*net.TCPAddr).AddrPort().Addr().Unmap(), err: err}
	}()
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	port := l.Addr().(*net.TCPAddr).AddrPort().Port()
	c, err := netdev.DialTCP(dctx, from, netip.AddrPortFrom(to.Addr, port))
	if err != nil {
		l.Close() // ends the Accept
		<-got
		return netip.Addr{}, err
	}
	defer c.Close()
	_ = c.SetDeadline(deadline)
	buf := make([]byte, len(token))
	if _, err := io.ReadFull(c, buf); err != nil {
		l.Close()
		<-got
		return netip.Addr{}, fmt.Errorf("read from %s: %w", to, err)
	}
	a := <-got
	if a.err != nil {
		return netip.Addr{}, a.err
	}
	if string(buf) != token {
		return netip.Addr{}, fmt.Errorf("read from %s: got %q, want the probe's token", to, buf)
	}
	return a.src, nil
}

func newToken() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "lab-probe " + hex.EncodeToString(b) + "\n"
}

// Why turns a connection error into words for a learner.
func Why(err error) string {
	switch {
	case errors.Is(err, syscall.ENETUNREACH):
		return "network is unreachable: no route to that address (is the address set and the link up?)"
	case errors.Is(err, syscall.EHOSTUNREACH):
		return "no host answers at that address (ARP got no reply: is the other end up, with that address?)"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused: the packets arrive, but nothing listens on that port there"
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return "no answer within " + TrafficTimeout.String() + ": packets are lost on the way or the reply finds no way back"
	}
	return err.Error()
}

// Reach passes when TCP works both ways between a and b: a listener of
// the probe's own on b's address is reached from a's namespace, and the
// other way round.
func Reach(a, b Endpoint) checker.Check {
	title := "TCP between " + a.String() + " and " + b.String()
	return func(ctx context.Context, h checker.Host) checker.Result {
		var evidence []string
		for _, dir := range [][2]Endpoint{{a, b}, {b, a}} {
			from, to := dir[0], dir[1]
			src, err := Exchange(ctx, from.Netns, to, TrafficTimeout)
			if err != nil {
				return checker.Failed(title,
					fmt.Sprintf("%s cannot reach %s: %s", nsLabel(from.Netns), to, Why(err)),
					"try it yourself: "+execIn(to.Netns)+"busybox nc -l -p 5000 & "+execIn(from.Netns)+"busybox nc "+to.Addr.String()+" 5000")
			}
			evidence = append(evidence, fmt.Sprintf("%s -> %s: connected, source %s", nsLabel(from.Netns), to, src))
		}
		return checker.Passed(title, evidence...)
	}
}
