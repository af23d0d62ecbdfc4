package container

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lab-edu/lab/kernel/container/ctrinit"
	"github.com/lab-edu/lab/kernel/reexec"
)

// readyFD is where a supervisor reports to `lab run -d` / `lab container
// start`: "ok" once the command runs, or "CODE message".
const readyFD = 3

// Start runs a created (or exited) container detached, like `docker
// start`: a supervisor process (this binary re-executed, double-forked
// into its own session) starts it with stdout and stderr going to the log
// file, waits for it, records its exit status and releases its cgroup and
// network. Start returns once the command runs, or with an *Error if it
// never did.
func (c *Container) Start(ctx context.Context) error {
	if c.State.Status == Running || c.State.Status == Paused {
		if c.supervisorAlive() {
			return engineError(fmt.Errorf("container %s is already running", c.Name))
		}
	}
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return engineError(err)
	}
	defer readyR.Close()
	cmd := reexec.Command(supervisorEntry, "fork", c.Root, c.ID)
	cmd.Env = []string{}
	cmd.ExtraFiles = []*os.File{readyW}
	// A new session: no controlling terminal, and no SIGHUP when the
	// terminal that ran `lab run -d` closes.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	readyW.Close()
	if err != nil {
		return engineError(fmt.Errorf("start supervisor: %w", err))
	}
	_ = cmd.Wait() // the first fork exits at once
	msg, _ := io.ReadAll(readyR)
	switch s := string(msg); {
	case s == "ok":
		return c.Refresh()
	case s == "":
		return engineError(fmt.Errorf("supervisor of %s ended without a word", c.Name))
	default:
		code, text, _ := strings.Cut(s, " ")
		var n int
		if _, err := fmt.Sscan(code, &n); err != nil {
			n, text = ExitEngine, s
		}
		return &Error{Code: n, Err: errors.New(text)}
	}
}

// supervisorMain is the supervisor entry: args "fork ROOT ID" (the session
// leader, which starts the real supervisor and exits, so the supervisor is
// not a session leader and can never acquire a controlling terminal, the
// classic double fork), "run ROOT ID", or "finish ROOT ID CODE" (lab-init
// waited for the container: see waitSmall).
func supervisorMain() {
	if len(os.Args) == 5 && os.Args[1] == "finish" {
		os.Exit(finishAfterWait(os.Args[2], os.Args[3], os.Args[4]))
	}
	if len(os.Args) != 4 {
		os.Exit(ExitEngine)
	}
	stage, root, id := os.Args[1], os.Args[2], os.Args[3]
	if stage == "fork" {
		cmd := reexec.Command(supervisorEntry, "run", root, id)
		cmd.Env = []string{}
		cmd.ExtraFiles = []*os.File{os.NewFile(readyFD, "ready")}
		if err := cmd.Start(); err != nil {
			report(fmt.Sprintf("%d start supervisor: %v", ExitEngine, err))
			os.Exit(ExitEngine)
		}
		os.Exit(0)
	}
	// Pdeathsig of the container follows this thread.
	runtime.LockOSThread()
	os.Exit(supervise(root, id))
}

func report(msg string) {
	_, _ = unix.Write(readyFD, []byte(msg))
	unix.Close(readyFD)
}

func supervise(root, id string) int {
	ctx := context.Background()
	c, err := loadDir(root, id)
	if err != nil {
		report(fmt.Sprintf("%d %v", ExitEngine, err))
		return ExitEngine
	}
	log, err := os.OpenFile(c.LogPath(), os.O_WRONLY|os.O_CREATE|os.O_APPEND|unix.O_CLOEXEC, 0o600)
	if err != nil {
		report(fmt.Sprintf("%d %v", ExitEngine, err))
		return ExitEngine
	}
	if err := c.becomeSupervisor(); err != nil {
		report(fmt.Sprintf("%d %v", ExitEngine, err))
		return ExitEngine
	}
	c.State.OOMKilled, c.State.Error = false, ""
	// Without -t the container writes its stdout and stderr straight into
	// the log file (opened O_APPEND): nothing is copied, so the supervisor
	// sleeps in wait4 and stays small. With -t (`run -d -t`) the command's
	// stdio is a terminal of the container's devpts whose master end comes
	// back here: the supervisor holds it open (nobody types into it, but a
	// shell waiting on it keeps running, as with docker) and copies what
	// the command writes into the log.
	c.console = c.Spec.TTY
	l, err := c.launch(ctx, nil, log, log)
	if err != nil {
		log.Close()
		code := ExitEngine
		var ce *Error
		if errors.As(err, &ce) {
			code = ce.Code
		}
		if c.Spec.Remove {
			c.removeFailed(ctx)
		} else {
			c.State.Status, c.State.Pid, c.State.ExitCode, c.State.Error = Exited, 0, code, err.Error()
			_ = c.saveState()
		}
		report(fmt.Sprintf("%d %v", code, err))
		return code
	}
	copied := make(chan struct{})
	if l.console != nil {
		go func() {
			// Ends with EIO once the last process holding the terminal's
			// other end is gone.
			_, _ = io.Copy(log, l.console)
			close(copied)
		}()
	} else {
		close(copied)
	}
	report("ok")
	if l.console == nil {
		waitSmall(root, id, l.cmd.Process.Pid) // returns only if it could not
	}
	shrink()
	code := l.wait()
	// PID 1 is gone, so is every process of its namespace: the terminal's
	// last bytes are in the master's buffer. (A holder of the terminal
	// outside the container would keep it open: give up on it after 2 s.)
	select {
	case <-copied:
	case <-time.After(2 * time.Second):
	}
	if l.console != nil {
		l.console.Close()
	}
	log.Close()
	if err := c.finish(ctx, code); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	return 0
}

// waitSmall replaces the supervisor, while the container runs, with the
// small lab-init in its waiting role (see ctrinit.WaitMain): execve(2)
// keeps the process's PID and its children, so lab-init can wait4 the
// container, and its resident set is a fraction of this binary's (the
// issue asks for a supervisor under 3 MiB). Once the container ends,
// lab-init execs this binary again, "finish ROOT ID CODE", to record the
// exit and release the cgroup and the network.
//
// The container's init was started from this thread, and its parent-death
// signal follows this thread: execve from it (the supervisor is locked to
// it) keeps the thread, so the container does not get SIGKILL.
//
// It returns when lab-init is not installed or the execve failed: the
// supervisor then waits itself.
func waitSmall(root, id string, pid int) {
	initPath, small := InitProgram()
	if !small {
		return
	}
	self, err := os.Executable()
	if err != nil {
		return
	}
	argv := []string{"lab-init", "wait", strconv.Itoa(pid), self, reexec.Prefix + supervisorEntry, root, id}
	// Where transparent huge pages are "always" (Debian's kernels), the
	// Go heap of lab-init would be backed by 2 MiB pages: 4 MiB resident
	// for a few KiB used. PR_SET_THP_DISABLE (prctl(2)) survives execve
	// and is inherited by children only: the container, forked before,
	// keeps the host's setting.
	_ = unix.Prctl(unix.PR_SET_THP_DISABLE, 1, 0, 0, 0)
	_ = unix.Exec(initPath, argv, []string{})
}

// finishAfterWait is the supervisor's last stage, after lab-init waited
// for the container: code is its docker exit code.
func finishAfterWait(root, id, code string) int {
	n, err := strconv.Atoi(code)
	if err != nil {
		n = ExitEngine
	}
	c, err := loadDir(root, id)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return ExitEngine
	}
	if err := c.finish(context.Background(), n); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	return 0
}

// shrink gives back the memory the supervisor does not need while it
// sleeps in wait4 for the container: the Go heap (FreeOSMemory), and the
// pages of this binary that start-up read (ctrinit.DropExecutablePages).
func shrink() {
	debug.FreeOSMemory()
	ctrinit.DropExecutablePages()
}
