package caps

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lab-edu/lab/kernel/procfs"
	"github.com/lab-edu/lab/kernel/reexec"
)

// A probe asks the kernel a yes/no question with given credentials: the
// checker copies a student's process's Creds into a fresh child, makes one
// privileged call there, and reports what the kernel answered. Each Try
// function returns denied, the kernel's refusal (nil when the call
// worked), and err, when the probe itself could not run.

// TryRawSocket opens socket(AF_INET, SOCK_RAW, IPPROTO_ICMP), what ping
// and tcpdump-like tools need, in a child with credentials c. The kernel
// checks CAP_NET_RAW (in the user namespace owning the network namespace)
// and answers EPERM without it.
func TryRawSocket(ctx context.Context, c Creds) (denied, err error) {
	return runProbe(ctx, c, "raw-socket")
}

// TryChown calls chown(path, uid, gid) in a child with credentials c. On a
// file the caller does not own, only CAP_CHOWN allows it: root without it
// gets EPERM.
func TryChown(ctx context.Context, c Creds, path string, uid, gid int) (denied, err error) {
	return runProbe(ctx, c, "chown", path, strconv.Itoa(uid), strconv.Itoa(gid))
}

// probeReply is what the probe child prints on stdout.
type probeReply struct {
	Call  string `json:"call"`
	Errno int    `json:"errno"` // 0: the call worked
}

func runProbe(ctx context.Context, c Creds, args ...string) (denied, err error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	spec, _ := json.Marshal(c)
	cmd := reexec.Command(probeEntry, append([]string{string(spec)}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s probe: %w", args[0], err)
	}
	stop := context.AfterFunc(ctx, func() { _ = cmd.Process.Kill() })
	defer stop()
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("%s probe: %w: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	var r probeReply
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		return nil, fmt.Errorf("%s probe: read reply %q: %w", args[0], stdout.String(), err)
	}
	if r.Errno != 0 {
		return os.NewSyscallError(r.Call, syscall.Errno(r.Errno)), nil
	}
	return nil, nil
}

// probeMain is the caps-probe child: Args[1] the JSON Creds, Args[2] the
// probe, then its arguments. It runs on its locked main thread, so the
// call below runs with exactly the credentials Apply set.
func probeMain() {
	c, args := childCreds()
	if err := Apply(c); err != nil {
		fmt.Fprintln(os.Stderr, "caps-probe:", err)
		os.Exit(126)
	}
	var call string
	var err error
	switch args[0] {
	case "raw-socket":
		call = "socket"
		var fd int
		if fd, err = unix.Socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP); err == nil {
			unix.Close(fd)
		}
	case "chown":
		call = "chown"
		uid, _ := strconv.Atoi(args[2])
		gid, _ := strconv.Atoi(args[3])
		err = unix.Chown(args[1], uid, gid)
	default:
		fmt.Fprintln(os.Stderr, "caps-probe: unknown probe", args[0])
		os.Exit(126)
	}
	var errno syscall.Errno
	if err != nil && !errors.As(err, &errno) {
		fmt.Fprintln(os.Stderr, "caps-probe:", err)
		os.Exit(126)
	}
	_ = json.NewEncoder(os.Stdout).Encode(probeReply{Call: call, Errno: int(errno)})
	os.Exit(0)
}

// BindResult is what TryBind saw.
type BindResult struct {
	Bound  bool   // a socket listened on the port
	Exited bool   // the program ended before listening
	Output string // what the program wrote (its error message)
}

// TryBind runs argv (a server that should listen on TCP port) with
// credentials c in a fresh network namespace, watches the namespace's
// /proc/PID/net/tcp and tcp6 for a listening socket on port, then kills
// it. A private namespace means the port is always free and nothing
// outside can reach the server. The program is exec'd, so execve's rules
// apply: file capabilities of argv[0] are granted, unless c.NoNewPrivs.
func TryBind(ctx context.Context, c Creds, port int, wait time.Duration, argv ...string) (BindResult, error) {
	cmd := Command(c, argv...)
	InNewNetns(cmd)
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return BindResult{}, fmt.Errorf("start %s: %w", argv[0], err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	defer func() { _ = cmd.Process.Kill(); <-done }()
	fsys := os.DirFS("/")
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(wait)
	for {
		if procfs.Listening(fsys, cmd.Process.Pid, port) {
			return BindResult{Bound: true, Output: out.String()}, nil
		}
		select {
		case <-done:
			return BindResult{Exited: true, Output: strings.TrimSpace(out.String())}, nil
		case <-deadline:
			return BindResult{Output: strings.TrimSpace(out.String())}, nil
		case <-ctx.Done():
			return BindResult{}, ctx.Err()
		case <-tick.C:
		}
	}
}

// lockedBuffer is a bytes.Buffer that the goroutine copying a child's
// output and the probe loop can share.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
