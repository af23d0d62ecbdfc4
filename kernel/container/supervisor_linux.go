package container

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

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
// classic double fork) or "run ROOT ID".
func supervisorMain() {
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

// shrink gives back the memory the supervisor does not need while it
// sleeps in wait4 for the container: the Go heap (FreeOSMemory), and the
// pages of this binary's read-only mappings (code, read-only data) that
// start-up touched. madvise(MADV_DONTNEED) drops those from the resident
// set; they are clean copies of the file, so the kernel reads them back
// from the page cache if they are used again. Writable mappings are left
// alone: dropping a private page someone wrote to would lose the write.
func shrink() {
	debug.FreeOSMemory()
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(maps), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 || f[5] != exe || (f[1] != "r-xp" && f[1] != "r--p") {
			continue
		}
		var start, end uintptr
		if _, err := fmt.Sscanf(f[0], "%x-%x", &start, &end); err != nil {
			continue
		}
		_, _, _ = unix.Syscall(unix.SYS_MADVISE, start, end-start, unix.MADV_DONTNEED)
	}
}
