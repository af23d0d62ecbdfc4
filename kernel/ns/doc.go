// Package ns is Linux namespaces as values: the kinds and their clone(2)
// flags, the identity of a process's namespace (the device and inode of
// /proc/PID/ns/KIND), a system-wide listing like lsns(8), an exec.Cmd
// builder that starts a program in new namespaces (what unshare(1) does),
// and the ways to run code inside an existing namespace (what nsenter(1)
// does).
//
// # Three syscalls
//
//   - clone(2) with CLONE_NEW* flags creates a process in new namespaces;
//     Command sets those flags on an exec.Cmd (SysProcAttr.Cloneflags).
//   - unshare(2) moves the calling thread into new namespaces; Unshare.
//   - setns(2) moves the calling thread into the namespace an open
//     /proc/PID/ns/KIND file refers to; Do and JoinCommand.
//
// # Why Go cannot join every namespace
//
// A namespace belongs to a task (a thread). Go schedules goroutines on
// several OS threads, so a goroutine that calls setns must lock its thread
// (runtime.LockOSThread), and either put it back into its own namespaces
// before unlocking it or never unlock it, so that Go throws the thread
// away instead of reusing it in the wrong namespace. That works for the
// UTS, IPC, network and cgroup namespaces: Do does it.
//
// Two kinds refuse a multithreaded caller, and a Go program always has
// several threads before main runs:
//
//   - setns(CLONE_NEWUSER) fails with EINVAL unless the caller is the only
//     thread of its process: credentials belong to the whole process.
//   - setns(CLONE_NEWNS) fails with EINVAL when the caller shares its
//     filesystem information (root and current directory, the fs_struct)
//     with another thread, which Go's threads always do (CLONE_FS).
//
// runc solves this with nsexec.c, C code that runs as a constructor before
// the Go runtime starts its threads. This package takes the other classic
// way, so the lab binary stays a static, cgo-free Go program: JoinCommand
// runs the setns calls in /usr/bin/nsenter (a small single-threaded C
// program from util-linux, called by absolute path, never from $PATH),
// which then executes this binary again inside the namespaces.
//
// A PID namespace cannot be entered by the caller itself either:
// setns(CLONE_NEWPID) only changes where the caller's future children go
// (/proc/PID/ns/pid_for_children), never the caller's own PID.
package ns
