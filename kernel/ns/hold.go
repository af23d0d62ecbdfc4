package ns

import "strconv"

// HoldEntry is the reexec entry of a process that keeps namespaces alive:
// it optionally names its UTS namespace, mounts its own /proc, creates a
// message queue or starts a nested holder, then waits for a signal. It is
// what the labs' reference solutions start instead of `sleep infinity`.
const HoldEntry = "ns.hold"

// HoldOptions configures a holder. Each field becomes a flag of the
// re-executed process.
type HoldOptions struct {
	Hostname   string // sethostname in its (new) UTS namespace
	Domainname string // setdomainname in its (new) UTS namespace
	MountProc  bool   // make / private and mount a fresh proc on /proc (needs new mnt and pid namespaces)
	MsgQueue   int32  // create a message queue with this key (0: none)
	Nest       int    // start a nested holder in new PID and mount namespaces this many levels down
	Tmpfs      string // mount a tmpfs here (needs a mount namespace of its own)
	// InNewMount makes this process start the real holder in a new mount
	// namespace, then exit. Joined to a user namespace by JoinCommand, it
	// is how a mount namespace owned by that user namespace is made.
	InNewMount bool
}

func (o HoldOptions) args() []string {
	var a []string
	if o.Hostname != "" {
		a = append(a, "-hostname", o.Hostname)
	}
	if o.Domainname != "" {
		a = append(a, "-domainname", o.Domainname)
	}
	if o.MountProc {
		a = append(a, "-mount-proc")
	}
	if o.MsgQueue != 0 {
		a = append(a, "-msgq", strconv.Itoa(int(o.MsgQueue)))
	}
	if o.Nest > 0 {
		a = append(a, "-nest", strconv.Itoa(o.Nest))
	}
	if o.Tmpfs != "" {
		a = append(a, "-tmpfs", o.Tmpfs)
	}
	if o.InNewMount {
		a = append(a, "-in-new-mount")
	}
	return a
}

// Args returns the holder's arguments, for JoinCommand(..., HoldEntry, opts.Args()...).
func (o HoldOptions) Args() []string { return o.args() }
