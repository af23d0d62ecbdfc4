package ns

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/lab-edu/lab/kernel/mount"
	"github.com/lab-edu/lab/kernel/reexec"
)

func init() { reexec.Register(HoldEntry, holdMain) }

// HoldCommand returns the command of a holder with opts, in the
// namespaces spec asks for. Start it with StartDetached.
func HoldCommand(spec Spec, opts HoldOptions) *exec.Cmd {
	args := opts.args()
	// The holder refuses to mount anything unless it is in another mount
	// namespace than its parent's (the caller's thread's), which it
	// cannot always read itself (from a user namespace, /proc/PPID/ns is
	// out of reach), so the parent passes its mount namespace along.
	if id, err := Self(Mount); err == nil {
		args = append(args, "-parent-mnt", strconv.FormatUint(id.Inode, 10))
	}
	return Apply(spec, reexec.Command(HoldEntry, args...))
}

// parentMnt is the inode of the mount namespace of the holder's parent.
var parentMnt uint64

func holdMain() {
	var o HoldOptions
	var key int
	fs := flag.NewFlagSet(HoldEntry, flag.ExitOnError)
	fs.StringVar(&o.Hostname, "hostname", "", "hostname")
	fs.StringVar(&o.Domainname, "domainname", "", "NIS domain name")
	fs.BoolVar(&o.MountProc, "mount-proc", false, "mount a new /proc")
	fs.IntVar(&key, "msgq", 0, "message queue key")
	fs.IntVar(&o.Nest, "nest", 0, "nested PID namespaces")
	fs.StringVar(&o.Tmpfs, "tmpfs", "", "mount a tmpfs here")
	fs.BoolVar(&o.InNewMount, "in-new-mount", false, "start the holder in a new mount namespace and exit")
	fs.Uint64Var(&parentMnt, "parent-mnt", 0, "the parent's mount namespace inode")
	_ = fs.Parse(os.Args[1:])
	o.MsgQueue = int32(key)
	if o.InNewMount {
		o.InNewMount = false
		child := HoldCommand(Spec{New: []Kind{Mount}}, o)
		if _, err := StartDetached(child); err != nil {
			fmt.Fprintln(os.Stderr, "ns.hold:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if err := hold(o); err != nil {
		fmt.Fprintln(os.Stderr, "ns.hold:", err)
		os.Exit(1)
	}
	stop := make(chan os.Signal, 1)
	// PID 1 of a PID namespace ignores signals it has no handler for,
	// even SIGTERM from inside; this handler makes it stoppable.
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	<-stop
	os.Exit(0)
}

func hold(o HoldOptions) error {
	// The domain name first, the hostname last: callers wait for the
	// hostname to appear (UTSNames) as the sign that the holder named its
	// namespace, so both must be set by then.
	if o.Domainname != "" {
		if err := SetDomainname(o.Domainname); err != nil {
			return err
		}
	}
	if o.Hostname != "" {
		if err := SetHostname(o.Hostname); err != nil {
			return err
		}
	}
	if o.MountProc {
		if err := mountProc(); err != nil {
			return err
		}
	}
	if o.Tmpfs != "" {
		if err := mountTmpfs(o.Tmpfs); err != nil {
			return err
		}
	}
	if o.MsgQueue != 0 {
		if host, err := InHost(IPC); err != nil || host {
			return fmt.Errorf("ns: refusing to create a message queue in the host's IPC namespace")
		}
		if _, err := CreateMsgQueue(o.MsgQueue, 0o644); err != nil {
			return err
		}
	}
	if o.Nest > 0 {
		child := HoldCommand(Spec{New: []Kind{PID, Mount}}, HoldOptions{MountProc: true, Nest: o.Nest - 1})
		if _, err := StartDetached(child); err != nil {
			return fmt.Errorf("start nested holder: %w", err)
		}
	}
	return nil
}

// mountProc gives a process in new PID and mount namespaces its own /proc,
// what `unshare --pid --fork --mount-proc` does: first make every mount
// private (so the new proc does not propagate back to the host's /proc
// through systemd's shared /), then mount proc over /proc. A procfs shows
// the PID namespace of the process that mounts it.
func mountProc() error {
	if err := ownMountNamespace(); err != nil {
		return err
	}
	if err := mount.MakeRPrivate("/"); err != nil {
		return err
	}
	m := mount.Mount{Source: "proc", Target: "/proc", FSType: "proc", Flags: syscall.MS_NOSUID | syscall.MS_NODEV | syscall.MS_NOEXEC}
	return m.Mount()
}

// mountTmpfs mounts a tmpfs on dir in the process's own mount namespace,
// after making every mount private so nothing propagates to the host.
func mountTmpfs(dir string) error {
	if err := ownMountNamespace(); err != nil {
		return err
	}
	if err := mount.MakeRPrivate("/"); err != nil {
		return err
	}
	return mount.Tmpfs("lab-tmpfs", dir, "size=1m")
}

// ownMountNamespace makes sure the holder is not in its parent's mount
// namespace before it mounts anything.
func ownMountNamespace() error {
	self, err := Self(Mount)
	if err != nil {
		return err
	}
	if parentMnt == 0 || self.Inode == parentMnt {
		return fmt.Errorf("ns: refusing to mount in the mount namespace of the parent (%s)", self)
	}
	return nil
}
