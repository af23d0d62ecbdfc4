package caps

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/lab-edu/lab/kernel/procfs"
	"github.com/lab-edu/lab/kernel/reexec"
)

// Entry names of the re-executed children this package starts.
const (
	execEntry  = "caps-exec"
	probeEntry = "caps-probe"
)

func init() {
	reexec.Register(execEntry, execMain)
	reexec.Register(probeEntry, probeMain)
	// In our own children, keep the main goroutine on the main thread
	// (the runtime runs init functions there and keeps it if an init locks
	// it). The credentials /proc/PID/status shows are the main thread's,
	// so applying them there makes the child look, from outside, exactly
	// like the process it imitates.
	if strings.HasPrefix(os.Args[0], reexec.Prefix+"caps-") {
		runtime.LockOSThread()
	}
}

// Apply gives the calling thread the credentials c. In order: it sets the
// inheritable set; drops from the bounding set what c.Bounding lacks
// (prctl PR_CAPBSET_DROP, while CAP_SETPCAP is still effective); changes
// groups and uids keeping the permitted set (PR_SET_KEEPCAPS); sets
// effective, permitted and inheritable (capset); raises the ambient
// capabilities; sets no_new_privs; and finally reads
// /proc/thread-self/status to prove the kernel agrees.
//
// Preconditions: the goroutine is locked to its OS thread (LockOSThread)
// and never unlocked, because all of this changes only the calling
// thread's credentials; the caller then execs (the new program inherits
// this thread's credentials) or makes its privileged call on this thread
// and exits. The calling thread must be root with every capability in c.
func Apply(c Creds) error {
	last, err := applyCreds(c)
	if err != nil {
		return err
	}
	return verifyThread(c, last)
}

// applyCreds changes the calling thread's capability sets, ids and
// no_new_privs to c, in the order the kernel allows, and returns the
// highest capability this kernel knows.
func applyCreds(c Creds) (Cap, error) {
	last, err := LastCap(os.DirFS("/"))
	if err != nil {
		return 0, err
	}
	// The inheritable set first: capset refuses to add to it anything the
	// bounding set lacks, and a process may well hold such a capability
	// (capsh --inh=cap_net_raw --drop=cap_net_raw). Effective and
	// permitted stay as they are for now: dropping needs CAP_SETPCAP.
	cur, err := threadCreds()
	if err != nil {
		return 0, err
	}
	pre := cur.Sets
	pre.Inheritable = c.Inheritable
	if err := applyToThread(pre, last, applyClassic); err != nil {
		return 0, err
	}
	if err := applyToThread(c.Sets, last, applyBounding); err != nil {
		return 0, err
	}
	if err := setIDs(c); err != nil {
		return 0, err
	}
	if err := applyToThread(c.Sets, last, applyClassic|applyAmbient); err != nil {
		return 0, err
	}
	if c.NoNewPrivs {
		if err := SetNoNewPrivs(); err != nil {
			return 0, err
		}
	}
	return last, nil
}

// setIDs changes the groups and the real, effective and saved uid and gid
// of the calling thread only: raw setgroups, setresgid and setresuid
// system calls (Go's syscall.Setresuid would change every thread).
// PR_SET_KEEPCAPS keeps the permitted set across the uid change; without
// it, leaving uid 0 clears every set.
func setIDs(c Creds) error {
	if c.UID == [3]int{} && c.GID == [3]int{} && len(c.Groups) == 0 {
		return nil // root stays root
	}
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl PR_SET_KEEPCAPS: %w", err)
	}
	if err := unix.Setgroups(c.Groups); err != nil {
		return fmt.Errorf("setgroups %v: %w", c.Groups, err)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESGID, uintptr(c.GID[0]), uintptr(c.GID[1]), uintptr(c.GID[2])); e != 0 {
		return fmt.Errorf("setresgid %v: %w", c.GID, e)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, uintptr(c.UID[0]), uintptr(c.UID[1]), uintptr(c.UID[2])); e != 0 {
		return fmt.Errorf("setresuid %v: %w", c.UID, e)
	}
	return nil
}

// SetNoNewPrivs sets the calling thread's no_new_privs flag
// (prctl(PR_SET_NO_NEW_PRIVS, 1)). From then on execve never grants
// anything: setuid bits and file capabilities are ignored. The flag is
// inherited by children and can never be cleared. Equivalent to:
// setpriv --no-new-privs.
func SetNoNewPrivs() error {
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl PR_SET_NO_NEW_PRIVS: %w", err)
	}
	return nil
}

// threadCreds reads the calling thread's credentials from
// /proc/thread-self/status (/proc/self is the main thread's).
func threadCreds() (Creds, error) {
	f, err := os.Open("/proc/thread-self/status")
	if err != nil {
		return Creds{}, err
	}
	defer f.Close()
	st, err := procfs.ParseStatus(f)
	if err != nil {
		return Creds{}, err
	}
	return CredsFromStatus(st), nil
}

// verifyThread reads the calling thread's status and compares it to c.
func verifyThread(c Creds, last Cap) error {
	got, err := threadCreds()
	if err != nil {
		return err
	}
	mask := Full(last)
	want := c.Sets
	for i, g := range got.List() {
		if w := want.List()[i] & mask; g&mask != w {
			return fmt.Errorf("caps: %s set is %s after apply, want %s", SetNames[i], g.Hex(), w.Hex())
		}
	}
	if got.UID != c.UID || got.NoNewPrivs != c.NoNewPrivs {
		return fmt.Errorf("caps: uids %v nnp %t after apply, want %v nnp %t", got.UID, got.NoNewPrivs, c.UID, c.NoNewPrivs)
	}
	return nil
}

// Command returns a command that re-executes this binary, gives that
// child the credentials c with Apply, and then execs argv (an absolute
// path first). The program starts as execve computes from c (for root:
// permitted = inheritable | bounding, so a capability dropped only from
// the effective set comes back; file capabilities and setuid bits apply
// unless c.NoNewPrivs). With no argv the child holds c itself and waits
// until its stdin is closed, so tests can read its /proc/PID/status.
func Command(c Creds, argv ...string) *exec.Cmd {
	spec, _ := json.Marshal(c) // a struct of ints and bools cannot fail
	return reexec.Command(execEntry, append([]string{string(spec)}, argv...)...)
}

// InNewNetns makes cmd start in a fresh network namespace
// (clone(CLONE_NEWNET)) holding only a loopback device that is down: a
// private place to bind a port, which disappears with the process.
func InNewNetns(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Cloneflags |= syscall.CLONE_NEWNET
}

// Detach makes cmd a session leader (setsid) so it outlives the lab
// command that starts it, as a shell the student would have started.
func Detach(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setsid = true
}

// execMain is the caps-exec child: os.Args[1] is the JSON Creds, the rest
// the program to exec.
func execMain() {
	c, argv := childCreds()
	if err := Apply(c); err != nil {
		fmt.Fprintln(os.Stderr, "caps-exec:", err)
		os.Exit(126)
	}
	if len(argv) == 0 {
		_, _ = os.Stdin.Read(make([]byte, 1)) // hold until stdin closes
		os.Exit(0)
	}
	// execve from this same locked thread: the new program gets this
	// thread's credentials, and the kernel ends every other thread.
	err := syscall.Exec(argv[0], argv, os.Environ())
	fmt.Fprintf(os.Stderr, "caps-exec: exec %s: %v\n", argv[0], err)
	os.Exit(127)
}

func childCreds() (Creds, []string) {
	var c Creds
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "caps: child started without credentials")
		os.Exit(126)
	}
	if err := json.Unmarshal([]byte(os.Args[1]), &c); err != nil {
		fmt.Fprintln(os.Stderr, "caps: child credentials:", err)
		os.Exit(126)
	}
	return c, os.Args[2:]
}
