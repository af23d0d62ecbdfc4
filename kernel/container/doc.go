// Package container is the mini-Docker's runtime: it runs a command in a
// container built from the other kernel/ packages, and keeps each
// container's state under <root>/containers/<id> (config.json, state.json,
// ctr.log, and the overlay's rootfs/, upper/ and work/), guarded by an
// flock on <root>/containers/.lock.
//
// Start-up has two halves, as in runc:
//
//   - the parent (Run, or the supervisor of a detached container)
//     creates the container's cgroup lab-ctr-<id12> with its limits and
//     device allow-list, starts the container init with clone(2) flags for
//     new pid, uts, mount, ipc and net namespaces (cgroup as an option),
//     wires its network (kernel/cnet) and then releases the child by
//     writing its configuration into a pipe on fd 3. The init is lab-init
//     (cmd/lab-init, package ctrinit), a small binary installed beside lab
//     that starts several times faster than lab, or else this binary
//     re-executed (kernel/reexec), which runs the same code;
//   - the init joins its own cgroup (a thread writing 0 to "tasks" on v1,
//     CLONE_INTO_CGROUP on v2), brings lo up, sets the hostname, writes
//     /etc/hosts, /etc/hostname and /etc/resolv.conf, makes / private, mounts
//     the overlay of the image's layers, pivots into it and detaches the old
//     root, mounts /proc, a minimal /dev and a read-only /sys, masks what
//     runc masks, sets rlimits, user, capabilities (Docker's 14, adjusted)
//     and no_new_privs, marks every inherited descriptor close-on-exec and
//     execs the command, which becomes the container's PID 1. A failure is
//     reported on fd 4 with docker's exit code (125, 126, 127).
//
// With --userns private (Spec.UserNS) the init also gets a user namespace
// of its own: uid and gid 0-65535 inside are UserNSHostID and up outside.
// What needs privilege over the host then moves to the parent, before the
// release: it mounts the overlay with every layer seen through an idmapped
// mount of the init's user namespace (so the image's root-owned files are
// the container root's, and nothing is chowned on disk), attaches it in the
// init's mount namespace and sends it the descriptor (the init, uid 100000
// by then, cannot reach the state directory), and hands it its v1 "tasks"
// files. The init mounts /proc and /sys before pivot_root and bind-mounts
// the host's device nodes instead of mknod (see kernel/rootfs).
//
// A detached container is watched by a supervisor, this binary again,
// double-forked into its own session: the container writes straight into
// the log file, and the supervisor sleeps in wait4, records the exit status
// (and OOMKilled), and releases the cgroup and the network. Mounts need no
// cleanup: they live in the container's mount namespace and go with it.
// Prune cleans up after a crash of lab, of a supervisor or of a container.
//
// CVE-2019-5736 (a container overwriting the runtime binary through
// /proc/PID/exe): see ctrinit.Main and execMain for why neither lab nor
// lab-init is ever reachable that way.
//
// The package adds no primitive of its own that another kernel/ package
// provides: it orchestrates mount, overlay, rootfs, cgroup, caps, ns,
// procfs and cnet; the init's side is in ctrinit.
package container
