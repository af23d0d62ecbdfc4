package container

import (
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/lab-edu/lab/kernel/cgroup"
	"github.com/lab-edu/lab/kernel/container/ctrinit"
	"github.com/lab-edu/lab/kernel/ns"
	"github.com/lab-edu/lab/kernel/reexec"
)

// Exec runs a command in the running container, like docker exec: in its
// namespaces, its cgroup, with its capabilities, user and no_new_privs.
//
// Joining an existing mount, pid or user namespace needs a
// single-threaded process, which a Go program never is, so the setns(2)
// calls happen in util-linux's nsenter (kernel/ns JoinCommand): this
// binary first joins the container's cgroup ("join" stage: the cgroup is
// inherited by everything nsenter starts), then execs nsenter, which
// enters the namespaces, forks (a new PID namespace applies to children
// only) and runs this binary again inside ("run" stage), which finally
// execs the command.
func (c *Container) Exec(ctx context.Context, spec ExecSpec, stdio Stdio) (int, error) {
	if !c.IsRunning() || c.State.Status != Running {
		return ExitEngine, engineError(fmt.Errorf("container %s is not running", c.Name))
	}
	if !c.inGroup(c.State.Pid) {
		return ExitEngine, engineError(fmt.Errorf("container %s: process %d is not in %s any more", c.Name, c.State.Pid, c.CgroupName()))
	}
	if err := selfIsStatic(); err != nil {
		return ExitEngine, engineError(err)
	}
	base, err := c.process()
	if err != nil {
		return ExitEngine, engineError(err)
	}
	p := process{Args: spec.Cmd, Env: mergeEnv(base.Env, spec.Env), Cwd: base.Cwd, User: base.User, Caps: base.Caps}
	if spec.Workdir != "" {
		p.Cwd = spec.Workdir
	}
	if spec.User != "" {
		p.User = spec.User
	}
	if len(p.Args) == 0 {
		return ExitEngine, engineError(errors.New("container: exec needs a command"))
	}
	h, err := hierarchy()
	if err != nil {
		return ExitEngine, engineError(err)
	}
	// v1: the join stage writes itself into each hierarchy's group; v2:
	// the join stage is born in the group (CLONE_INTO_CGROUP).
	var procs []string
	var cgDir *os.File
	if h.Version == cgroup.V2 {
		if cgDir, err = os.Open(h.Dir("", c.CgroupName())); err != nil {
			return ExitEngine, engineError(err)
		}
		defer cgDir.Close()
	} else {
		for _, ctl := range append(append([]string{}, v1Controllers...), cgroup.Devices) {
			procs = append(procs, h.Path(tasks(ctl), c.CgroupName()))
		}
	}
	kinds := []ns.Kind{ns.Mount, ns.UTS, ns.IPC, ns.PID}
	if c.Spec.Net != NetHost {
		kinds = append(kinds, ns.Net)
	}
	if c.Spec.CgroupNS {
		kinds = append(kinds, ns.Cgroup)
	}
	if c.Spec.UserNS {
		// nsenter enters the user namespace first and becomes its root.
		kinds = append([]ns.Kind{ns.User}, kinds...)
	}
	p.Console = spec.TTY
	pj, err := json.Marshal(p)
	if err != nil {
		return ExitEngine, engineError(err)
	}
	nsenter, done, err := ns.JoinCommand(ctx, c.State.Pid, kinds, execEntry, "run", string(pj))
	if err != nil {
		return ExitEngine, engineError(err)
	}
	defer done()
	cj, _ := json.Marshal(procs)
	cmd := reexec.Command(execEntry, append([]string{"join", string(cj)}, nsenter.Args...)...)
	cmd.Env = nsenter.Env
	cmd.ExtraFiles = nsenter.ExtraFiles
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	var consoleSock *os.File
	if spec.TTY {
		// As for run -t: the command's terminal is made inside, in the
		// container's devpts, and its master end comes back over a socket
		// (fd 4 after nsenter's fd 3, this binary).
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return ExitEngine, engineError(fmt.Errorf("console socket: %w", err))
		}
		consoleSock = os.NewFile(uintptr(fds[0]), "console")
		defer consoleSock.Close()
		child := os.NewFile(uintptr(fds[1]), "console")
		defer child.Close()
		cmd.ExtraFiles = append(append([]*os.File{}, cmd.ExtraFiles...), child)
	}
	if cgDir != nil {
		cmd.SysProcAttr.UseCgroupFD, cmd.SysProcAttr.CgroupFD = true, int(cgDir.Fd())
	}
	t, err := newTerminal(false, stdio.In != nil, stdio)
	if spec.TTY {
		t, err = &terminal{restore: func() {}}, nil
	}
	if err != nil {
		return ExitEngine, engineError(err)
	}
	defer t.close()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = t.stdin, t.stdout, t.stderr
	if f, ok := stdio.Err.(*os.File); ok && spec.TTY {
		cmd.Stderr = f // messages of a failure before the terminal exists
	}
	signals := proxySignals()
	defer signals.stop()
	err = cmd.Start()
	t.started()
	if err != nil {
		return ExitEngine, engineError(fmt.Errorf("start exec: %w", err))
	}
	if consoleSock != nil {
		for _, f := range cmd.ExtraFiles[1:] {
			f.Close() // the child's end: EOF if the command fails first
		}
		if master, err := receiveFD(consoleSock); err == nil {
			t.useMaster(master, stdio.In != nil, stdio)
		}
	}
	signals.to(cmd.Process.Pid)
	err = cmd.Wait()
	signals.stop()
	t.drain()
	return exitCodeOf(cmd.ProcessState, err), nil
}

// execMain is the exec entry: "join PROCS NSENTER-ARGV..." on the host,
// "run PROCESS" inside the container.
func execMain() {
	if len(os.Args) < 3 {
		os.Exit(ExitEngine)
	}
	switch os.Args[1] {
	case "join":
		// This thread joins the container's cgroup (tasks: see
		// createCgroup) and execs nsenter: the lock keeps both on it.
		runtime.LockOSThread()
		var procs []string
		if err := json.Unmarshal([]byte(os.Args[2]), &procs); err != nil {
			execFail(ExitEngine, err)
		}
		for _, p := range procs {
			if err := os.WriteFile(p, []byte("0"), 0); err != nil {
				execFail(ExitEngine, fmt.Errorf("join cgroup %s: %w", p, err))
			}
		}
		argv := os.Args[3:]
		execFail(ExitEngine, unix.Exec(ns.Nsenter, argv, os.Environ()))
	case "run":
		// CVE-2019-5736: from here until the execve, this binary runs
		// inside the container's PID namespace, where the container's
		// processes could open /proc/PID/exe (or /proc/PID/fd/3, this
		// binary) and write through it to the host's lab binary. Two
		// kernel checks stop them: the process started with every
		// capability, a superset of what any container process has, so
		// the ptrace access check on /proc/PID/exe and /proc/PID/fd
		// refuses them; and before dropping capabilities it marks itself
		// non-dumpable, which keeps those links closed to anyone without
		// CAP_SYS_PTRACE until execve replaces this binary.
		if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
			execFail(ExitEngine, fmt.Errorf("set non-dumpable: %w", err))
		}
		runtime.LockOSThread()
		var p process
		if err := json.Unmarshal([]byte(os.Args[2]), &p); err != nil {
			execFail(ExitEngine, err)
		}
		if p.Console {
			// A session of its own, whose controlling terminal the new
			// pty becomes (nsenter's child is no session leader).
			if _, err := unix.Setsid(); err != nil {
				execFail(ExitEngine, fmt.Errorf("setsid: %w", err))
			}
			if err := ctrinit.SetupConsole(execConsoleFD); err != nil {
				execFail(ExitEngine, err)
			}
		}
		code, err := ctrinit.ExecProcess(p)
		execFail(code, err)
	}
	os.Exit(ExitEngine)
}

// execConsoleFD is the console socket of exec -t: nsenter passes on fd 3
// (this binary) and fd 4.
const execConsoleFD = 4

func execFail(code int, err error) {
	fmt.Fprintf(os.Stderr, "lab: %v\n", err)
	os.Exit(code)
}

// selfIsStatic checks that this binary has no ELF interpreter: nsenter
// executes it inside the container's root, where the host's dynamic loader
// (/lib64/ld-linux-x86-64.so.2) and libc do not exist, so a dynamically
// linked lab would fail there with "No such file or directory".
func selfIsStatic() error {
	f, err := elf.Open(reexec.Self)
	if err != nil {
		return fmt.Errorf("read own executable: %w", err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return errors.New("container: exec needs a statically linked lab (build it with CGO_ENABLED=0): this one needs the host's dynamic loader, which the container's root does not have")
		}
	}
	return nil
}
