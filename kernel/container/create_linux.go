package container

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lab-edu/lab/kernel/cnet"
	"github.com/lab-edu/lab/kernel/procfs"
)

// Create checks spec, allocates an ID and a name under the state lock and
// writes the container's state directory (status created). Nothing runs
// yet. Every failure is an *Error with code 125, and leaves nothing behind.
func Create(ctx context.Context, root string, spec Spec) (*Container, error) {
	c, err := create(ctx, root, spec)
	if err != nil {
		return nil, engineError(err)
	}
	return c, nil
}

func create(ctx context.Context, root string, spec Spec) (*Container, error) {
	if spec.Net == "" {
		spec.Net = NetBridge
	}
	switch spec.Net {
	case NetBridge, NetNone, NetHost:
	default:
		return nil, fmt.Errorf("container: network %q: want bridge, none or host", spec.Net)
	}
	if len(spec.Ports) > 0 && spec.Net != NetBridge {
		return nil, fmt.Errorf("container: published ports need --net bridge, not %s", spec.Net)
	}
	if spec.UserNS && spec.Net == NetHost {
		return nil, fmt.Errorf("container: --userns private cannot share the host's network (--net host): the kernel mounts /sys only for a network namespace the user namespace owns; use --net bridge or none")
	}
	if spec.UserNS && spec.Rootfs != "" {
		return nil, fmt.Errorf("container: --userns private needs an image (its layers are idmapped), not the directory %s", spec.Rootfs)
	}
	if spec.Name != "" && !validName.MatchString(spec.Name) {
		return nil, fmt.Errorf("container: name %q: use letters, digits, '_', '.' and '-', starting with a letter or digit", spec.Name)
	}
	if spec.Detach && spec.Remove && spec.Interactive {
		spec.Interactive = false
	}
	c := &Container{ID: newID(), Root: root, Spec: spec}
	if _, err := c.caps(); err != nil {
		return nil, err
	}
	if spec.Rootfs == "" {
		s, err := imageStore(root)
		if err != nil {
			return nil, err
		}
		img, err := s.Get(spec.Image)
		if err != nil {
			return nil, err // "image NAME: no such image (see lab image ls)"
		}
		c.ImageID, c.img = img.ID.String(), &img
	}
	for _, v := range spec.Volumes {
		if _, err := os.Stat(v.Source); err != nil {
			return nil, fmt.Errorf("volume %s:%s: source %w", v.Source, v.Target, err)
		}
	}
	if len(spec.Ports) > 0 {
		if err := cnet.CheckPorts(ctx, root, spec.Ports); err != nil {
			return nil, err
		}
	}
	unlock, err := lock(root)
	if err != nil {
		return nil, err
	}
	defer unlock()
	for _, ref := range spec.VolumesFrom {
		from, err := Load(root, ref)
		if err != nil {
			return nil, fmt.Errorf("volumes-from: %w", err)
		}
		c.Spec.Volumes = append(c.Spec.Volumes, from.Spec.Volumes...)
	}
	if spec.Name == "" {
		spec.Name = randomName(c.ID)
	}
	c.Name = spec.Name
	taken, err := nameTaken(root, c.Name)
	if err != nil {
		return nil, err
	}
	if taken {
		return nil, fmt.Errorf("container name %q is already in use: remove that container (lab container rm %s) or choose another name", c.Name, c.Name)
	}
	c.State = State{Status: Created, Created: time.Now()}
	// The upper directory's mode becomes the mode of the container's "/":
	// 0755, or a non-root user (-u) could not even reach /bin.
	for _, d := range []string{c.Dir(), c.RootfsDir(), c.UpperDir(), c.WorkDir()} {
		mode := os.FileMode(0o700)
		if d == c.UpperDir() || d == c.RootfsDir() {
			mode = 0o755
		}
		if err := os.Mkdir(d, mode); err != nil {
			os.RemoveAll(c.Dir())
			return nil, err
		}
	}
	if err := errors.Join(c.saveConfig(), c.saveState()); err != nil {
		os.RemoveAll(c.Dir())
		return nil, err
	}
	return c, nil
}

// Run creates the container and runs it in the foreground, like `docker
// run` without -d: the command's stdio is stdio (a terminal when
// spec.TTY), SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 sent to
// this process are passed on to the container's PID 1, and Run returns the
// command's exit code. A failure before the command ran is an *Error
// (125, 126 or 127) and, like --rm, leaves nothing.
func Run(ctx context.Context, root string, spec Spec, stdio Stdio) (int, error) {
	trace("create")
	c, err := Create(ctx, root, spec)
	if err != nil {
		return ExitEngine, err
	}
	trace("created (state directory)")
	return c.Attach(ctx, stdio)
}

// Attach runs a created container in the foreground (see Run).
func (c *Container) Attach(ctx context.Context, stdio Stdio) (int, error) {
	// Pdeathsig fires when the thread that started the child ends: keep
	// this goroutine on one thread until the container is gone.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := c.becomeSupervisor(); err != nil {
		return ExitEngine, err
	}
	// With -t the init makes the terminal itself, in the container's
	// devpts, and sends back its master end (see setupConsole).
	c.console = c.Spec.TTY
	t, err := newTerminal(false, c.Spec.Interactive, stdio)
	if c.console {
		t, err = &terminal{restore: func() {}}, nil
	}
	if err != nil {
		c.removeFailed(ctx)
		return ExitEngine, engineError(err)
	}
	defer t.close()
	signals := proxySignals()
	defer signals.stop()
	l, err := c.launch(ctx, t.stdin, t.stdout, t.stderr)
	t.started()
	if err == nil && l.console != nil {
		t.useMaster(l.console, c.Spec.Interactive, stdio)
	}
	if err != nil {
		c.removeFailed(ctx)
		var ce *Error
		if errors.As(err, &ce) {
			return ce.Code, err
		}
		return ExitEngine, err
	}
	signals.to(l.cmd.Process.Pid)
	code := l.wait()
	trace("command ended (wait4)")
	signals.stop()
	t.drain()
	err = c.finish(context.WithoutCancel(ctx), code)
	trace("finished (cgroup, network, state released)")
	return code, err
}

// removeFailed cleans up after a start that failed: like --rm for a run
// (docker removes nothing, but keeps a "created" container; lab removes it
// so a failed run leaves nothing, as the acceptance test demands).
func (c *Container) removeFailed(ctx context.Context) {
	_ = c.teardown(ctx)
	_ = c.removeDir()
}

// becomeSupervisor records the calling process as the one that waits for
// the container and cleans up after it.
func (c *Container) becomeSupervisor() error {
	st, err := procfs.StartTime(host, os.Getpid())
	if err != nil {
		return err
	}
	c.State.Supervisor, c.State.SupervisorStart = os.Getpid(), st
	return nil
}

// proxiedSignals are the signals `lab run` passes on to the container.
var proxiedSignals = []os.Signal{unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2}

// signalProxy passes the signals a user sends to `lab run` (or `lab
// exec`) on to the container's process (docker's --sig-proxy). PID 1 of a
// namespace ignores a signal it has no handler for, except SIGKILL and
// SIGSTOP, as init does.
type signalProxy struct {
	caught chan os.Signal
	pid    chan int
	done   chan struct{}
	once   sync.Once
}

// proxySignals starts catching the signals in the background, before the
// container starts: each signal.Notify of a new signal waits for the Go
// runtime's signal-handling thread to update the process's signal mask (a
// thread switch each, which adds up to a millisecond on a busy VM), and
// that wait now overlaps with the container's start-up. A signal caught
// before the container runs is passed on once it does (to).
func proxySignals() *signalProxy {
	p := &signalProxy{caught: make(chan os.Signal, 8), pid: make(chan int, 1), done: make(chan struct{})}
	go func() {
		signal.Notify(p.caught, proxiedSignals...)
		defer signal.Stop(p.caught)
		var pid int
		select {
		case pid = <-p.pid:
		case <-p.done:
			return
		}
		for {
			select {
			case s := <-p.caught:
				_ = unix.Kill(pid, s.(syscall.Signal))
			case <-p.done:
				return
			}
		}
	}()
	return p
}

// to starts passing the signals on to process pid.
func (p *signalProxy) to(pid int) { p.pid <- pid }

// stop ends the proxy. Idempotent.
func (p *signalProxy) stop() { p.once.Do(func() { close(p.done) }) }
