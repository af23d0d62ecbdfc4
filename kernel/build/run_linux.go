package build

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/lab-edu/lab/kernel/mount"
	"github.com/lab-edu/lab/kernel/ns"
	"github.com/lab-edu/lab/kernel/overlay"
	"github.com/lab-edu/lab/kernel/reexec"
	"github.com/lab-edu/lab/kernel/rootfs"
)

// runJob is one RUN step: the command and the config it runs with.
type runJob struct {
	Argv    []string `json:"argv"`
	Env     []string `json:"env"`
	Workdir string   `json:"workdir"`
	User    string   `json:"user,omitempty"`

	Lower  []string `json:"lower"`
	Upper  string   `json:"upper"`
	Work   string   `json:"work"`
	Merged string   `json:"merged"`
}

const entryRun = "build-run"

func init() { reexec.Register(entryRun, runMain) }

// run executes a RUN step: the command runs as PID 1 of new PID, mount,
// UTS, IPC and network namespaces (no network, like `docker build
// --network none`), with the step's overlay as its root, and every file it
// writes lands in the step's upper dir.
//
// By default the runtime (kernel/container) runs it; see useRuntime.
func (w *workspace) run(ctx context.Context, s *state, st *stepDirs, job runJob, stateDir string, stdout, stderr io.Writer) error {
	l := w.layers(s, st)
	job.Lower, job.Upper, job.Work, job.Merged = l.Lower, l.Upper, l.Work, st.merged
	if useRuntime {
		return runInContainer(ctx, job, stateDir, stdout, stderr)
	}
	return execRun(ctx, job, stdout, stderr)
}

// useRuntime selects how RUN steps execute: through kernel/container, the
// full runtime (run_container_linux.go), or, when false, through the
// lighter helper below, built from kernel/rootfs, kernel/overlay and
// kernel/ns only (no cgroup, no capability drop). The helper was the
// interim path while the runtime was being written; it stays as the
// fallback and as the way the tests run an image's CMD.
var useRuntime = true

// execRun runs a RUN job in the helper and returns the command's failure
// as an *Error with its exit code.
func execRun(ctx context.Context, job runJob, stdout, stderr io.Writer) error {
	raw, err := json.Marshal(job)
	if err != nil {
		return err
	}
	// The job travels in an argument: stdin belongs to the command (it
	// gets /dev/null, as in docker build).
	cmd := reexec.Command(entryRun, string(raw))
	cmd.Stdout, cmd.Stderr = stdout, stderr
	var setupErr bytes.Buffer
	cmd.Stderr = io.MultiWriter(stderr, &prefixCatcher{buf: &setupErr})
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWNS | syscall.CLONE_NEWPID | syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC | syscall.CLONE_NEWNET,
		Pdeathsig:  syscall.SIGKILL,
	}
	err = runCtx(ctx, cmd)
	if err == nil {
		return nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code := ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
		if msg := strings.TrimSpace(setupErr.String()); msg != "" {
			return &Error{ExitCode: code, Err: errors.New(strings.TrimPrefix(msg, setupPrefix))}
		}
		return &Error{ExitCode: code, Err: fmt.Errorf("RUN %s: the command returned a non-zero code: %d", strings.Join(job.Argv, " "), code)}
	}
	return err
}

// setupPrefix marks the helper's own error lines (before the exec) on
// stderr, so they can be told from what the command prints.
const setupPrefix = "lab-build-run: "

// prefixCatcher keeps the helper's own error line.
type prefixCatcher struct{ buf *bytes.Buffer }

func (p *prefixCatcher) Write(b []byte) (int, error) {
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, setupPrefix) {
			p.buf.WriteString(line + "\n")
		}
	}
	return len(b), nil
}

func runFail(code int, format string, args ...any) {
	fmt.Fprintf(os.Stderr, setupPrefix+format+"\n", args...)
	os.Exit(code)
}

// runMain is the RUN helper, PID 1 of its new PID namespace.
func runMain() {
	var job runJob
	if len(os.Args) < 2 || json.Unmarshal([]byte(os.Args[1]), &job) != nil {
		runFail(125, "bad job")
	}
	if err := mount.MakeRPrivate("/"); err != nil {
		runFail(125, "%v", err)
	}
	if err := overlay.Mount(overlay.Layers{Lower: job.Lower, Upper: job.Upper, Work: job.Work}, job.Merged); err != nil {
		runFail(125, "%v", err)
	}
	// /proc and /dev only where the image has the mount points: creating
	// them would put them in the step's layer.
	if isDir(path.Join(job.Merged, "proc")) {
		if err := rootfs.MountProc(job.Merged); err != nil {
			runFail(125, "mount /proc: %v", err)
		}
	}
	if isDir(path.Join(job.Merged, "dev")) {
		if err := rootfs.MinimalDev(job.Merged); err != nil {
			runFail(125, "mount /dev: %v", err)
		}
	}
	if err := ns.SetHostname("lab-build"); err != nil {
		runFail(125, "%v", err)
	}
	if err := rootfs.PivotRoot(job.Merged); err != nil {
		runFail(125, "%v", err)
	}
	uid, gid := 0, 0
	if job.User != "" {
		var err error
		if uid, gid, err = lookupUser(job.User); err != nil {
			runFail(125, "USER %s: %v", job.User, err)
		}
	}
	if err := unix.Chdir(job.Workdir); err != nil {
		runFail(125, "WORKDIR %s: %v", job.Workdir, err)
	}
	if len(job.Argv) == 0 {
		runFail(125, "RUN: empty command")
	}
	bin, code, err := lookPath(job.Argv[0], job.Env)
	if err != nil {
		runFail(code, "RUN %s: %v", job.Argv[0], err)
	}
	// syscall's Setgroups, Setgid and Setuid change every thread of the
	// process (Go runs them on all threads): unix's raw ones would change
	// only the current thread, and the exec may happen on another.
	if err := syscall.Setgroups([]int{gid}); err != nil {
		runFail(125, "setgroups: %v", err)
	}
	if err := syscall.Setgid(gid); err != nil {
		runFail(125, "setgid: %v", err)
	}
	if err := syscall.Setuid(uid); err != nil {
		runFail(125, "setuid: %v", err)
	}
	null, err := os.Open(os.DevNull)
	if err == nil {
		_ = unix.Dup2(int(null.Fd()), 0)
	}
	err = unix.Exec(bin, job.Argv, job.Env)
	runFail(126, "RUN %s: exec: %v", job.Argv[0], err)
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// lookPath finds a command in the PATH of the RUN environment (inside the
// image), returning docker's exit code when it cannot: 127 not found, 126
// not executable.
func lookPath(name string, env []string) (string, int, error) {
	if strings.Contains(name, "/") {
		if err := executable(name); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return "", 127, err
			}
			return "", 126, err
		}
		return name, 0, nil
	}
	p := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			p = v
		}
	}
	for _, dir := range strings.Split(p, ":") {
		if dir == "" {
			dir = "."
		}
		cand := path.Join(dir, name)
		if executable(cand) == nil {
			return cand, 0, nil
		}
	}
	return "", 127, errors.New("executable file not found in $PATH")
}

func executable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return errors.New("permission denied")
	}
	return nil
}
