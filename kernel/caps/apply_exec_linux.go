package caps

import "os"

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
	last, err := LastCap(os.DirFS("/"))
	if err != nil {
		return err
	}
	cur, err := threadCreds()
	if err != nil {
		return err
	}
	pre := cur.Sets
	pre.Inheritable = c.Inheritable
	if err := applyToThread(pre, last, applyClassic); err != nil {
		return err
	}
	if err := applyToThread(c.Sets, last, applyBounding); err != nil {
		return err
	}
	if err := setIDs(c); err != nil {
		return err
	}
	if err := applyToThread(c.Sets, last, applyClassic|applyAmbient); err != nil {
		return err
	}
	if c.NoNewPrivs {
		return SetNoNewPrivs()
	}
	return nil
}
