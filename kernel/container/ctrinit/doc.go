// Package ctrinit is the container's init: the process that starts in the
// new namespaces, builds the container's file system view, drops
// privileges and execs the user's command (see Main).
//
// It is a package of its own, importing only small kernel/ packages
// (mount, overlay, rootfs, caps, ns) and golang.org/x/sys/unix, so that
// cmd/lab-init, the binary the runtime starts for every container, stays
// small: a Go program pays for every package it links at each start
// (runtime set-up, package initialisers, page faults), and the init is on
// the path of every `lab run`. kernel/container falls back to re-executing
// lab itself when lab-init is not installed beside it.
package ctrinit
