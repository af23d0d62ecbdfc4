// Package rootfs switches a process into a root filesystem: chroot(2), and
// pivot_root(2) in a new mount namespace with the old root detached, which
// is what container runtimes do. It also mounts /proc and a minimal /dev in
// a rootfs, builds a busybox rootfs from the host's busybox-static, runs a
// command inside a rootfs, demonstrates the classic chroot escape, and
// finds (and kills) the processes that still use a directory as their
// root or hold mounts below it.
//
// The functions that change the calling process's root (Chroot,
// PivotRoot) are meant for a re-executed child (see kernel/reexec): this
// package registers the entries Command, PivotCommand and Escape use.
package rootfs
