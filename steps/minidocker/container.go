package minidockerlab

import (
	"errors"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/lab-edu/lab/kernel/cgroup"
)

// The command every check asks mini to run: it keeps the container alive
// while the check looks at it, and busybox has it at /bin/sleep in the
// rootfs. The check kills it well before it ends on its own.
var probeArgv = []string{"/bin/sleep", "30"}

const probeComm = "sleep"

// How long a check waits for mini to start its command, and for mini to
// exit once the command is killed.
const (
	startTimeout = 5 * time.Second
	exitTimeout  = 2 * time.Second
)

// miniRun is one run of the student's mini, seen from outside.
type miniRun struct {
	work   string
	cmd    *exec.Cmd
	out    *tail         // what mini printed, stdout and stderr
	done   chan struct{} // closed when mini has exited
	err    error         // mini's exit, once done
	PID    int           // COMMAND's PID in the host's PID namespace
	Mini   int           // the PID of `mini run`
	groups []cgroup.Membership
}

// commandLine is how the check ran mini, for the student to try.
func (c *miniRun) commandLine() string {
	return binaryOf(c.work) + " run " + rootfsOf(c.work) + " " + strings.Join(probeArgv, " ")
}

func exitText(err error) string {
	var exit *exec.ExitError
	switch {
	case err == nil:
		return "status 0"
	case errors.As(err, &exit):
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return "killed by " + ws.Signal().String()
		}
		return "status " + strconv.Itoa(exit.ExitCode())
	}
	return err.Error()
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = t.b[len(t.b)-t.max:]
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// lastLines is the last n lines, joined with " | ", or "no output".
func (t *tail) lastLines(n int) string {
	lines := strings.Split(strings.TrimSpace(t.String()), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	s := strings.Join(lines, " | ")
	if s == "" {
		return "no output"
	}
	return s
}
