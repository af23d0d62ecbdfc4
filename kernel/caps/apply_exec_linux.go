package caps

// ApplyBeforeExec is Apply without its final check, for a thread that
// execs right after: changing to a non-root uid makes the process
// non-dumpable (the kernel's defence against a less privileged user
// reading what root left in memory), and a non-dumpable process's
// /proc/thread-self/status is then closed to the thread itself. The
// execve of an ordinary program makes it dumpable again, so the new
// program's credentials can be read from the outside instead
// (/proc/PID/status), which is what the container runtime's tests do.
//
// Preconditions: those of Apply.
func ApplyBeforeExec(c Creds) error {
	_, err := applyCreds(c)
	return err
}
