package cnet

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"strings"
)

// The three files a container needs to know who it is and where names are
// resolved. Docker writes them in the container's directory and
// bind-mounts them; lab writes them into the container's root (the overlay's
// upper layer), which a learner can read with plain tools.

// hostnameFile is /etc/hostname: the name and a newline.
func hostnameFile(hostname string) []byte { return []byte(hostname + "\n") }

// hostsFile is /etc/hosts: the loopback names, and in bridge mode the
// container's own address under its hostname, so `ping $(hostname)` and
// programs that look their own name up work, as with Docker.
func hostsFile(hostname string, ep *Endpoint) []byte {
	var b bytes.Buffer
	b.WriteString("127.0.0.1\tlocalhost\n")
	b.WriteString("::1\tlocalhost ip6-localhost ip6-loopback\n")
	if ep != nil && ep.Addr.IsValid() && hostname != "" {
		fmt.Fprintf(&b, "%s\t%s\n", ep.Addr.Addr(), hostname)
	}
	return b.Bytes()
}

// fallbackNameservers are the servers Docker writes when the host's only
// resolvers are on its loopback (which a container cannot reach): Google's
// public DNS.
var fallbackNameservers = []string{"8.8.8.8", "8.8.4.4"}

// containerResolvConf derives a container's /etc/resolv.conf from the
// host's, as Docker does for a bridged container: every line is kept
// except nameservers on loopback (127.0.0.53 of systemd-resolved, a local
// dnsmasq), which inside the container would be the container's own
// loopback, where nothing answers. There is no DNS server on lab0 either,
// so if no nameserver is left the container gets fallbackNameservers.
// In host mode the host's file is right as it is.
func containerResolvConf(host []byte, mode string) []byte {
	if mode == ModeHost {
		return host
	}
	var b bytes.Buffer
	servers := 0
	sc := bufio.NewScanner(bytes.NewReader(host))
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "nameserver" {
			if a, err := netip.ParseAddr(f[1]); err == nil && a.IsLoopback() {
				continue
			}
			servers++
		}
		b.WriteString(line + "\n")
	}
	if servers == 0 && mode == ModeBridge {
		b.WriteString("# the host's nameservers are on its loopback, out of the container's reach\n")
		for _, s := range fallbackNameservers {
			b.WriteString("nameserver " + s + "\n")
		}
	}
	return b.Bytes()
}

// onlySystemdStub reports whether resolv.conf names systemd-resolved's
// stub (127.0.0.53) as its only nameserver: then the real upstream servers
// are in /run/systemd/resolve/resolv.conf, which Docker reads instead.
func onlySystemdStub(conf []byte) bool {
	stub := false
	for _, line := range strings.Split(string(conf), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "nameserver" {
			if f[1] != "127.0.0.53" {
				return false
			}
			stub = true
		}
	}
	return stub
}
