package ctrinit

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// loopbackUp brings lo of this process's (new) network namespace up, so
// 127.0.0.1 works in the container. A new namespace has lo, down.
//
// It uses the classic interface ioctls on any socket, SIOCGIFFLAGS then
// SIOCSIFFLAGS with IFF_UP added (what `ifconfig lo up` does), rather
// than rtnetlink (`ip link set lo up`, kernel/netdev): the init stays
// small, and a small init starts fast.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("bring lo up: socket: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return fmt.Errorf("bring lo up: %w", err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bring lo up: SIOCGIFFLAGS: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bring lo up: SIOCSIFFLAGS: %w", err)
	}
	return nil
}
