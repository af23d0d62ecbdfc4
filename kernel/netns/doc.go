// Package netns manages network namespaces the way `ip netns` does, so the
// lab and the learner's shell see the same ones.
//
// A network namespace lives as long as something refers to it: a process
// inside it, an open file descriptor of /proc/PID/ns/net, or a bind mount
// of that file. `ip netns add NAME` keeps an otherwise empty namespace
// alive with the last kind: it bind-mounts the namespace onto the file
// /run/netns/NAME. That file then is an nsfs inode (statfs reports
// NSFS_MAGIC), not a regular file, which is how IsNamed tells a real named
// namespace from a file someone created by hand.
//
// setns(2) changes the namespace of one thread only, and Go moves
// goroutines between threads freely. Do therefore runs code on a locked
// OS thread that is never unlocked, so Go throws the thread away instead of
// reusing it in the wrong namespace. Most reads do not need that: Handle
// opens a netlink socket inside the namespace, and the socket stays bound to
// that namespace whichever thread uses it.
package netns
