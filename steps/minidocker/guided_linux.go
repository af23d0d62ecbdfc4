package minidockerlab

import (
	"fmt"
	"os"

	"github.com/lab-edu/lab/kernel/netdev"
)

// hostVethOf returns the name, in the host's network namespace, of the peer
// of the veth inside process pid's network namespace. Inside, a veth's
// IFLA_LINK is its peer's interface index in the peer's namespace (the
// host's, here); the host's link with that index is the answer.
func hostVethOf(pid int) (string, error) {
	nsFile, err := os.Open(fmt.Sprintf("/proc/%d/ns/net", pid))
	if err != nil {
		return "", err
	}
	defer nsFile.Close()
	inside, err := netdev.OpenNamespace(nsFile)
	if err != nil {
		return "", err
	}
	defer inside.Close()
	links, err := inside.Links()
	if err != nil {
		return "", err
	}
	peer := 0
	for _, l := range links {
		if l.Type == "veth" {
			peer = l.PeerIndex
		}
	}
	if peer == 0 {
		return "", fmt.Errorf("PID %d has no veth in its network namespace", pid)
	}
	hostLinks, err := netdev.Links("")
	if err != nil {
		return "", err
	}
	for _, l := range hostLinks {
		if l.Index == peer {
			return l.Name, nil
		}
	}
	return "", fmt.Errorf("no host link has index %d, the peer of PID %d's veth", peer, pid)
}
