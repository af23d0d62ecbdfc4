// Package probe holds reusable read-only probes over a checker.Host: find
// processes by property (root directory, namespace), read their mounts,
// decide whether a jail really pivoted away from the host, and follow
// symbolic links inside a root file system the way the kernel would for a
// process chrooted there; and the network probes of net*.go. Read-only
// probes never change the host and never run anything; checks that must
// see a thing work add their own behavioural probe (see
// kernel/rootfs.Command, kernel/rootfs.EscapeFromProcess).
package probe

import (
	"path"
	"strings"
)

// Rel turns an absolute host path into a name in Host.FS (rooted at "/").
func Rel(abs string) string {
	r := strings.TrimPrefix(path.Clean("/"+abs), "/")
	if r == "" {
		return "."
	}
	return r
}
