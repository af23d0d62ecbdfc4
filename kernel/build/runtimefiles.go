package build

import "strings"

// RuntimeFile reports whether name (a path inside a container's root, as
// "etc/hosts" or "/etc/hosts") is one of the files the runtime writes into
// every container (kernel/cnet.WriteEtc): /etc/hosts, /etc/hostname and
// /etc/resolv.conf. Docker bind-mounts them from outside the container, so
// they never show in `docker diff`, a commit or a build layer; this
// runtime writes them into the overlay, so diff, commit and build leave
// them out instead.
func RuntimeFile(name string) bool {
	switch strings.TrimPrefix(name, "/") {
	case "etc/hosts", "etc/hostname", "etc/resolv.conf":
		return true
	}
	return false
}
