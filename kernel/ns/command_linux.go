package ns

import (
	"fmt"
	"os/exec"
	"syscall"
)

// Command returns an exec.Cmd that runs name in the namespaces spec asks
// for: Go's os/exec calls clone(2) with spec.Flags() as Cloneflags, so the
// child is born in them (unshare(1) instead unshares, then execs). It does
// not start the command, so a test can read cmd.SysProcAttr.
//
// Equivalent to: unshare --uts --pid --fork NAME ARGS... for
// Spec{New: []Kind{UTS, PID}}.
func Command(spec Spec, name string, args ...string) *exec.Cmd {
	return Apply(spec, exec.Command(name, args...))
}

// Apply sets spec's namespaces on cmd (a reexec.Command, for example) and
// returns it.
func Apply(spec Spec, cmd *exec.Cmd) *exec.Cmd {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	a := cmd.SysProcAttr
	a.Cloneflags |= spec.Flags()
	a.Setsid = a.Setsid || spec.Detach
	for _, m := range spec.UIDMap {
		a.UidMappings = append(a.UidMappings, syscall.SysProcIDMap{ContainerID: m.Inside, HostID: m.Outside, Size: m.Count})
	}
	for _, m := range spec.GIDMap {
		a.GidMappings = append(a.GidMappings, syscall.SysProcIDMap{ContainerID: m.Inside, HostID: m.Outside, Size: m.Count})
	}
	if spec.AsRootInside {
		// Written after the maps: Go's child waits for the parent to
		// write uid_map and gid_map, then calls setgid and setuid.
		// setgroups stays denied (the kernel requires it for an
		// unprivileged gid_map, and nothing here needs groups).
		a.Credential = &syscall.Credential{Uid: 0, Gid: 0, NoSetGroups: true}
		a.GidMappingsEnableSetgroups = false
	}
	return cmd
}

// StartDetached starts cmd so that it outlives the caller: a new session,
// stdin, stdout and stderr on /dev/null (nil in exec.Cmd), and a goroutine
// that reaps it if it ends while the caller still runs. It returns the
// child's PID.
func StartDetached(cmd *exec.Cmd) (int, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setsid = true
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, nil, nil
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	pid := cmd.Process.Pid
	go func() { _ = cmd.Wait() }()
	return pid, nil
}
