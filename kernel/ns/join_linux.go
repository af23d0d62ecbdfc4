package ns

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/lab-edu/lab/kernel/reexec"
)

// Nsenter is util-linux's nsenter(1), called by absolute path so that a
// program earlier in $PATH cannot stand in for it.
const Nsenter = "/usr/bin/nsenter"

// argvEnv marks a child that nsenter started: see init below.
const argvEnv = "_LAB_NS_JOINED"

// nsenter executes PROGRAM ARGS with argv[0] = PROGRAM, so the entry name
// that reexec dispatches on (argv[0] = "lab-reexec:NAME") travels as the
// first argument; this moves it back to argv[0] before main runs.
func init() {
	if os.Getenv(argvEnv) == "1" && len(os.Args) > 1 && strings.HasPrefix(os.Args[1], reexec.Prefix) {
		os.Args = os.Args[1:]
		os.Unsetenv(argvEnv)
	}
}

var nsenterFlags = map[Kind]string{
	Mount: "--mount", UTS: "--uts", IPC: "--ipc", PID: "--pid",
	Net: "--net", User: "--user", Cgroup: "--cgroup", Time: "--time",
}

// JoinCommand returns a command that runs reexec entry in process pid's
// namespaces of the given kinds, any kind included. The setns(2) calls
// happen in nsenter, a single-threaded C program, before it executes this
// binary again; a Go process cannot join a user or mount namespace itself
// (see the package documentation). With User, nsenter also becomes uid 0
// and gid 0 of that namespace, like a process started there as root.
//
// The binary travels as an open file descriptor (fd 3, /proc/self/fd/3),
// because its path may not be reachable from inside the namespaces (a
// test binary under a 0700 directory, seen from an unprivileged user
// namespace). With Mount, /proc must be mounted in the target.
//
// Equivalent to: nsenter --target PID --user ... -- lab ENTRY ARGS...
// The caller must call the returned close function after the command ends.
func JoinCommand(ctx context.Context, pid int, kinds []Kind, entry string, args ...string) (*exec.Cmd, func(), error) {
	exe, err := os.Open(reexec.Self)
	if err != nil {
		return nil, nil, fmt.Errorf("open own executable: %w", err)
	}
	nsArgs := []string{"--target", strconv.Itoa(pid)}
	for _, k := range kinds {
		f, ok := nsenterFlags[k]
		if !ok {
			exe.Close()
			return nil, nil, fmt.Errorf("ns: unknown namespace kind %q", k)
		}
		nsArgs = append(nsArgs, f)
	}
	nsArgs = append(nsArgs, "--", "/proc/self/fd/3", reexec.Prefix+entry)
	cmd := exec.CommandContext(ctx, Nsenter, append(nsArgs, args...)...)
	cmd.ExtraFiles = []*os.File{exe}
	cmd.Env = append(os.Environ(), argvEnv+"=1")
	return cmd, func() { exe.Close() }, nil
}

// RunJoined runs entry in pid's namespaces (JoinCommand) and returns its
// standard output.
func RunJoined(ctx context.Context, pid int, kinds []Kind, entry string, args ...string) ([]byte, error) {
	cmd, done, err := JoinCommand(ctx, pid, kinds, entry, args...)
	if err != nil {
		return nil, err
	}
	defer done()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("run %s in the namespaces of process %d: %w: %s", entry, pid, err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}
