// Package caps reads and changes Linux capabilities: the five per-thread
// sets (effective, permitted, inheritable, bounding, ambient), file
// capabilities in the security.capability extended attribute, and the
// no_new_privs flag.
//
// Root's power is not one switch. Since Linux 2.2 the kernel checks a
// specific capability for each privileged action (CAP_NET_RAW for a raw
// socket, CAP_CHOWN for chown of someone else's file), and a process only
// uses what is in its effective set. The sets live in the thread's
// credentials (struct cred), so everything here that changes them works
// on one OS thread: a Go program locks its goroutine to its thread, changes
// the sets, then either runs the privileged call on that same thread or
// execs, which replaces the whole process with that thread's credentials.
// That is why dropping happens in a re-executed child (Command), never in
// the lab process itself.
//
// The table of capability names and the capget/capset/prctl calls come
// from github.com/syndtr/gocapability, used only in gocapability.go, so a
// move to its maintained fork github.com/moby/sys/capability changes that
// one file. Names of capabilities newer than the table are cap_N.
package caps
