package container

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lab-edu/lab/kernel/caps"
	"github.com/lab-edu/lab/kernel/cgroup"
	"github.com/lab-edu/lab/kernel/procfs"
)

// IsRunning reports whether the container runs (or is paused) and its
// supervisor is alive to clean up after it.
func (c *Container) IsRunning() bool {
	return (c.State.Status == Running || c.State.Status == Paused) && c.supervisorAlive()
}

// inGroup reports whether process pid is in the container's cgroup: the
// check that a PID read from state.json still names the container's PID 1
// and not a process that got the same number later.
func (c *Container) inGroup(pid int) bool {
	entries, err := procfs.ReadCgroup(host, pid)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Path, "/"+c.CgroupName()) {
			return true
		}
	}
	return false
}

// Kill sends sig to the container's PID 1, through a pidfd (pidfd_open,
// pidfd_send_signal): once the descriptor is open it names that process
// for good, so the signal cannot reach another process that reused the PID.
func (c *Container) Kill(sig syscall.Signal) error {
	if !c.IsRunning() {
		return fmt.Errorf("container %s is not running", c.Name)
	}
	fd, err := unix.PidfdOpen(c.State.Pid, 0)
	if err != nil {
		return fmt.Errorf("open pidfd of %d: %w", c.State.Pid, err)
	}
	defer unix.Close(fd)
	if !c.inGroup(c.State.Pid) {
		return fmt.Errorf("container %s: process %d is not in %s any more", c.Name, c.State.Pid, c.CgroupName())
	}
	if err := unix.PidfdSendSignal(fd, sig, nil, 0); err != nil {
		return fmt.Errorf("signal %d: %w", c.State.Pid, err)
	}
	if c.State.Status == Paused && (sig == unix.SIGKILL || sig == unix.SIGTERM) {
		// A frozen process handles no signal, not even SIGKILL, until thawed.
		return c.Unpause()
	}
	return nil
}

// waitSupervisor waits up to timeout for the supervisor to exit (it exits
// after recording the status and releasing the cgroup and network). It
// reports whether it did. It polls a pidfd, which becomes readable when
// the process ends: no sleep loop.
func (c *Container) waitSupervisor(timeout time.Duration) bool {
	if !c.supervisorAlive() {
		return true
	}
	fd, err := unix.PidfdOpen(c.State.Supervisor, 0)
	if err != nil {
		return errors.Is(err, unix.ESRCH)
	}
	defer unix.Close(fd)
	if !c.supervisorAlive() { // the PID was reused between the two checks
		return true
	}
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	deadline := time.Now().Add(timeout)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		n, err := unix.Poll(fds, int(left.Milliseconds())+1)
		if err == nil && n > 0 {
			return true
		}
		if err != nil && !errors.Is(err, unix.EINTR) {
			return false
		}
	}
}

// Wait blocks until the container's supervisor is done and returns the
// container's exit code.
func (c *Container) Wait(ctx context.Context) (int, error) {
	for !c.waitSupervisor(time.Second) {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
	}
	if err := c.Refresh(); err != nil {
		return 0, err
	}
	return c.State.ExitCode, nil
}

// Stop sends SIGTERM to PID 1, then SIGKILL if the container still runs
// after timeout, like docker stop -t. It returns once the supervisor has
// recorded the exit and released everything. A container whose supervisor
// is gone (crash, kill -9) is cleaned up here instead.
func (c *Container) Stop(ctx context.Context, timeout time.Duration) error {
	if !c.IsRunning() {
		return c.reap(ctx)
	}
	if err := c.Kill(unix.SIGTERM); err != nil {
		return err
	}
	if c.waitSupervisor(timeout) {
		return c.Refresh()
	}
	if err := c.Kill(unix.SIGKILL); err != nil && c.IsRunning() {
		return err
	}
	if !c.waitSupervisor(10 * time.Second) {
		return fmt.Errorf("container %s: supervisor %d still runs 10s after SIGKILL", c.Name, c.State.Supervisor)
	}
	return c.Refresh()
}

// reap cleans up after a container marked running whose supervisor died:
// kills what is left in its cgroup, releases cgroup and network, and
// records it as exited (137, as if SIGKILLed). Nothing to do otherwise.
func (c *Container) reap(ctx context.Context) error {
	if c.State.Status != Running && c.State.Status != Paused {
		return nil
	}
	if err := c.teardown(ctx); err != nil {
		return err
	}
	c.State.Status, c.State.Pid, c.State.ExitCode, c.State.Finished = Exited, 0, exitSignalBase+int(unix.SIGKILL), time.Now()
	c.State.Error = "supervisor gone"
	return c.saveState()
}

// Remove deletes the container and its state directory. A running
// container is refused unless force, which kills it first (docker rm -f).
func (c *Container) Remove(ctx context.Context, force bool) error {
	if c.IsRunning() {
		if !force {
			return fmt.Errorf("container %s is running: stop it first or use -f", c.Name)
		}
		// rm -f deletes the record too, so nobody needs the exit status the
		// supervisor would write: SIGKILL it after the container and clean
		// up here (teardown kills whatever is left in the cgroup), instead
		// of waiting for the supervisor's own clean-up, which starts lab
		// once more. (The container first: once the supervisor is gone,
		// the container no longer counts as running for Kill.)
		// A pidfd of PID 1, to wait for its end below: the end of PID 1 of
		// a PID namespace is also the end of every other process in it.
		pid1, err := unix.PidfdOpen(c.State.Pid, 0)
		if err != nil {
			pid1 = -1
		} else {
			defer unix.Close(pid1)
		}
		if err := c.Kill(unix.SIGKILL); err != nil && c.inGroup(c.State.Pid) {
			return err
		}
		if err := c.killSupervisor(); err != nil {
			return err
		}
		if !c.waitSupervisor(10 * time.Second) {
			return fmt.Errorf("container %s: supervisor %d still runs 10s after SIGKILL", c.Name, c.State.Supervisor)
		}
		if pid1 >= 0 {
			// Then the cgroup is empty and teardown removes it at once.
			_, _ = unix.Poll([]unix.PollFd{{Fd: int32(pid1), Events: unix.POLLIN}}, 2000)
		}
	}
	if err := c.teardown(ctx); err != nil {
		return err
	}
	return c.removeDir()
}

// killSupervisor sends SIGKILL to the container's supervisor, through a
// pidfd opened after checking that the PID still names it (same start
// time), so a recycled PID is never signalled. Its container gets SIGKILL
// too: its parent-death signal.
func (c *Container) killSupervisor() error {
	if !c.supervisorAlive() {
		return nil
	}
	fd, err := unix.PidfdOpen(c.State.Supervisor, 0)
	if err != nil {
		return nil // gone meanwhile
	}
	defer unix.Close(fd)
	if !c.supervisorAlive() {
		return nil
	}
	if err := unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("kill supervisor %d: %w", c.State.Supervisor, err)
	}
	return nil
}

// Pause freezes every process of the container (the freezer: v1
// freezer.state FROZEN, v2 cgroup.freeze 1).
func (c *Container) Pause() error {
	if c.State.Status != Running || !c.IsRunning() {
		return fmt.Errorf("container %s is not running", c.Name)
	}
	h, err := hierarchy()
	if err != nil {
		return err
	}
	if err := h.Freeze(c.CgroupName()); err != nil {
		return err
	}
	return c.setStatus(Running, Paused)
}

// Unpause thaws a paused container.
func (c *Container) Unpause() error {
	h, err := hierarchy()
	if err != nil {
		return err
	}
	if err := h.Thaw(c.CgroupName()); err != nil {
		return err
	}
	return c.setStatus(Paused, Running)
}

// setStatus moves state.json from one status to another unless the
// supervisor changed it in between (the container exited meanwhile).
func (c *Container) setStatus(from, to Status) error {
	unlock, err := lock(c.Root)
	if err != nil {
		return err
	}
	defer unlock()
	if err := c.Refresh(); err != nil {
		return err
	}
	if c.State.Status != from {
		return nil
	}
	c.State.Status = to
	return c.saveState()
}

// Stats reads the container's cgroup counters and limits.
func (c *Container) Stats() (cgroup.Stats, error) {
	h, err := hierarchy()
	if err != nil {
		return cgroup.Stats{}, err
	}
	if !c.IsRunning() {
		return cgroup.Stats{}, fmt.Errorf("container %s is not running", c.Name)
	}
	return h.ReadStats(host, c.CgroupName()), nil
}

// Top lists the processes of the container's cgroup, with host PIDs.
func (c *Container) Top() ([]Process, error) {
	h, err := hierarchy()
	if err != nil {
		return nil, err
	}
	ctl := cgroup.Pids
	if h.Version == cgroup.V2 {
		ctl = ""
	}
	pids, err := h.ReadProcs(host, ctl, c.CgroupName())
	if err != nil {
		return nil, fmt.Errorf("container %s is not running: %w", c.Name, err)
	}
	var out []Process
	for _, pid := range pids {
		st, err := procfs.ReadStatus(host, pid)
		if err != nil {
			continue // exited meanwhile
		}
		argv, _ := procfs.Cmdline(host, pid)
		cmd := strings.Join(argv, " ")
		if cmd == "" {
			cmd = "[" + st.Name + "]"
		}
		out = append(out, Process{PID: pid, PPID: st.PPid, UID: st.Uid[1], State: st.State, Command: cmd})
	}
	return out, nil
}

// Logs copies the log file to w. With follow it then waits for more
// (inotify IN_MODIFY on the file) until the supervisor exits (its pidfd
// becomes readable) or ctx ends.
func (c *Container) Logs(ctx context.Context, w io.Writer, follow bool) error {
	f, err := os.Open(c.LogPath())
	if errors.Is(err, os.ErrNotExist) {
		return nil // never started detached: no log
	}
	if err != nil {
		return err
	}
	defer f.Close()
	if !follow || !c.IsRunning() {
		_, err := io.Copy(w, f)
		return err
	}
	in, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return fmt.Errorf("inotify: %w", err)
	}
	defer unix.Close(in)
	if _, err := unix.InotifyAddWatch(in, c.LogPath(), unix.IN_MODIFY); err != nil {
		return fmt.Errorf("watch %s: %w", c.LogPath(), err)
	}
	sup, err := unix.PidfdOpen(c.State.Supervisor, 0)
	if err != nil {
		_, err := io.Copy(w, f)
		return err
	}
	defer unix.Close(sup)
	buf := make([]byte, 4096)
	for {
		if _, err := io.Copy(w, f); err != nil {
			return err
		}
		fds := []unix.PollFd{{Fd: int32(in), Events: unix.POLLIN}, {Fd: int32(sup), Events: unix.POLLIN}}
		// The timeout only lets ctx end the wait; data and exit wake it.
		if _, err := unix.Poll(fds, 200); err != nil && !errors.Is(err, unix.EINTR) {
			return err
		}
		if fds[1].Revents != 0 {
			_, err := io.Copy(w, f) // what the last moments wrote
			return err
		}
		for {
			if n, _ := unix.Read(in, buf); n <= 0 {
				break
			}
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

// Inspect describes the container for `lab container inspect`.
func (c *Container) Inspect() Info {
	info := Info{ID: c.ID, Name: c.Name, Image: c.Spec.Image, Cmd: c.Spec.Cmd, State: c.State,
		Dir: c.Dir(), Cgroup: c.CgroupName(), Mounts: c.Spec.Volumes, Net: c.Spec.Net, Hostname: c.hostname(),
		Limits: Limits{Memory: c.Spec.Memory, CPUs: c.Spec.CPUs, PidsLimit: c.Spec.PidsLimit}}
	if info.Mounts == nil {
		info.Mounts = []Volume{}
	}
	info.UserNS = "host"
	if c.Spec.UserNS {
		info.UserNS, info.UIDMap = "private", []IDMap{{Inside: 0, Outside: UserNSHostID, Size: UserNSSize}}
	}
	if set, err := c.caps(); err == nil {
		info.Caps = capNames(set)
	}
	if info.Caps == nil {
		info.Caps = []string{}
	}
	return info
}

func capNames(set caps.Set) []string {
	var out []string
	for cp := caps.Cap(0); cp <= caps.MaxCap; cp++ {
		if set&caps.Of(cp) != 0 {
			out = append(out, strings.ToUpper(cp.String()))
		}
	}
	return out
}
