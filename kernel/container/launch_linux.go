package container

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lab-edu/lab/kernel/caps"
	"github.com/lab-edu/lab/kernel/cgroup"
	"github.com/lab-edu/lab/kernel/cnet"
	"github.com/lab-edu/lab/kernel/container/ctrinit"
	"github.com/lab-edu/lab/kernel/image"
	"github.com/lab-edu/lab/kernel/mount"
	"github.com/lab-edu/lab/kernel/ns"
	"github.com/lab-edu/lab/kernel/overlay"
	"github.com/lab-edu/lab/kernel/procfs"
)

var host = os.DirFS("/")

// hierarchy is the host's cgroup layout, detected once per process.
var hierarchy = sync.OnceValues(cgroup.Detect)

// tasks is the v1 file listing a group's threads (one TID per line).
func tasks(controller string) cgroup.File {
	return cgroup.File{Controller: controller, V1: "tasks", V2: "cgroup.threads"}
}

// v1Controllers are the v1 hierarchies a container gets a group in.
var v1Controllers = []string{cgroup.Memory, cgroup.CPU, cgroup.CPUAcct, cgroup.Pids, cgroup.Freezer}

// imageStore opens the image store of root.
func imageStore(root string) (*image.Store, error) {
	return image.Open(root + "/images")
}

// process resolves the command, environment, directory, user and
// capabilities from the spec and the image's config, as docker run does.
func (c *Container) process() (process, error) {
	var cfg image.Image
	if c.ImageID != "" {
		img, err := c.image()
		if err != nil {
			return process{}, err
		}
		cfg = *img
	}
	ic := cfg.Config.Config
	args := append([]string{}, ic.Entrypoint...)
	if len(c.Spec.Cmd) > 0 {
		args = append(args, c.Spec.Cmd...)
	} else {
		args = append(args, ic.Cmd...)
	}
	if len(args) == 0 {
		return process{}, errors.New("container: no command given and the image has none")
	}
	p := process{Args: args, Env: mergeEnv(ic.Env, c.Spec.Env), Cwd: ic.WorkingDir, User: ic.User}
	p.Env = mergeEnv(p.Env, []string{"HOSTNAME=" + c.hostname()})
	if c.Spec.TTY {
		p.Env = mergeEnv([]string{"TERM=xterm"}, p.Env)
	}
	if c.Spec.Workdir != "" {
		p.Cwd = c.Spec.Workdir
	}
	if c.Spec.User != "" {
		p.User = c.Spec.User
	}
	set, err := c.caps()
	if err != nil {
		return process{}, err
	}
	p.Caps = set
	return p, nil
}

// caps is Docker's default set adjusted by --cap-add and --cap-drop.
func (c *Container) caps() (caps.Set, error) {
	last, err := lastCap()
	if err != nil {
		return 0, err
	}
	return caps.Adjust(caps.DockerDefault, c.Spec.CapAdd, c.Spec.CapDrop, last)
}

// lastCap is the highest capability this kernel knows, read once.
var lastCap = sync.OnceValues(func() (caps.Cap, error) { return caps.LastCap(host) })

// image reads the container's image from the store, once.
func (c *Container) image() (*image.Image, error) {
	if c.img != nil {
		return c.img, nil
	}
	s, err := imageStore(c.Root)
	if err != nil {
		return nil, err
	}
	img, err := s.Get(c.ImageID)
	if err != nil {
		return nil, err
	}
	c.img = &img
	return c.img, nil
}

func (c *Container) hostname() string {
	if c.Spec.Hostname != "" {
		return c.Spec.Hostname
	}
	return c.ShortID()
}

// resources turns the limits of the spec into cgroup values.
func (c *Container) resources() cgroup.Resources {
	var r cgroup.Resources
	if c.Spec.Memory > 0 {
		r.MemoryMax = cgroup.Ptr(c.Spec.Memory)
		// No swap on top of the limit (v1 memsw = memory), so the limit is
		// real; only where the kernel accounts swap.
		if _, err := os.Stat("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes"); err == nil {
			r.SwapMax = cgroup.Ptr[int64](0)
		}
	}
	if c.Spec.CPUs > 0 {
		r.CPUPeriod = cgroup.Ptr[uint64](100000)
		r.CPUQuota = cgroup.Ptr(int64(c.Spec.CPUs * 100000))
	}
	if c.Spec.PidsLimit > 0 {
		r.PidsMax = cgroup.Ptr(c.Spec.PidsLimit)
	}
	return r
}

// createCgroup makes lab-ctr-<id12> with the limits and the device
// allow-list. It returns the v1 "tasks" files the init writes itself into,
// or (v2) an open descriptor of the group's directory for
// CLONE_INTO_CGROUP.
//
// Why "tasks" and not cgroup.procs: moving a whole thread group (and this
// binary's init has several threads, the Go runtime's) takes the kernel's
// global cgroup_threadgroup_rwsem for writing, which waits for an RCU grace
// period: several milliseconds per write on a quiet machine. A thread
// writing 0 ("myself") to tasks moves only itself and skips that lock
// (~0.2 ms). That is enough: the thread that joined is the one that
// execs, and execve ends every other thread.
func (c *Container) createCgroup() (procs []string, dir *os.File, err error) {
	h, err := hierarchy()
	if err != nil {
		return nil, nil, err
	}
	name := c.CgroupName()
	controllers := v1Controllers
	if h.Version == cgroup.V2 {
		controllers = []string{cgroup.Memory, cgroup.CPU, cgroup.Pids}
	}
	if err := h.Create(name, c.resources(), controllers...); err != nil {
		return nil, nil, err
	}
	if err := h.LimitDevices(name, cgroup.ContainerDevices); err != nil {
		return nil, nil, err
	}
	if h.Version == cgroup.V2 {
		d, err := os.Open(h.Dir("", name))
		return nil, d, err
	}
	for _, ctl := range append(controllers, cgroup.Devices) {
		procs = append(procs, h.Path(tasks(ctl), name))
	}
	return procs, nil, nil
}

// deleteCgroup kills what is left in the container's group and removes it
// in every hierarchy. Idempotent.
func (c *Container) deleteCgroup() error {
	h, err := hierarchy()
	if err != nil {
		return err
	}
	name := c.CgroupName()
	ctl := cgroup.Pids
	if h.Version == cgroup.V2 {
		ctl = ""
	}
	if h.Exists(host, ctl, name) {
		if pids, _ := h.ReadProcs(host, ctl, name); len(pids) > 0 {
			if err := h.KillAll(name, ctl, nil); err != nil {
				return err
			}
		}
	}
	// A process that has just exited may still hold its group for a moment
	// (EBUSY): Delete waits for the kernel to let go.
	return errors.Join(h.Delete(name), h.DeleteDevices(name))
}

// namespaces are the clone flags of the init.
func (c *Container) namespaces() []ns.Kind {
	kinds := []ns.Kind{ns.PID, ns.UTS, ns.Mount, ns.IPC}
	if c.Spec.Net != NetHost {
		kinds = append(kinds, ns.Net)
	}
	if c.Spec.CgroupNS {
		kinds = append(kinds, ns.Cgroup)
	}
	if c.Spec.UserNS {
		kinds = append(kinds, ns.User)
	}
	return kinds
}

// userNSMap is the uid_map and gid_map of a --userns private container.
var userNSMap = []syscall.SysProcIDMap{{ContainerID: 0, HostID: UserNSHostID, Size: UserNSSize}}

// initCommand is the *exec.Cmd of the init: lab-init (or this binary,
// re-executed; see initBinary) in the new namespaces. A unit test reads
// its Cloneflags.
func (c *Container) initCommand() *exec.Cmd {
	path, args0 := initBinary()
	cmd := ns.Command(ns.Spec{New: c.namespaces()}, path)
	cmd.Args = []string{args0, c.ShortID()}
	cmd.Env = []string{} // the command's environment travels in the config
	if c.Spec.UserNS {
		// Go's child waits until the parent has written uid_map and
		// gid_map, then becomes uid and gid 0 of the new namespace
		// (setgid, setuid) before the execve: without that the init would
		// be the overflow uid 65534 there, with no capability. setgroups
		// stays allowed (the map is written by host root), since the
		// command's groups are set at the end.
		a := cmd.SysProcAttr
		a.UidMappings, a.GidMappings = userNSMap, userNSMap
		a.GidMappingsEnableSetgroups = true
		a.Credential = &syscall.Credential{Uid: 0, Gid: 0}
	}
	return cmd
}

// launched is a started container: its init has exec'd the command.
type launched struct {
	cmd     *exec.Cmd
	console *os.File // -t: the master end of the command's terminal
}

// launch starts the container with the given stdio (a nil file is
// /dev/null) and returns once its command runs, or with an *Error if it
// never did (everything it made is then removed again).
func (c *Container) launch(ctx context.Context, stdin, stdout, stderr *os.File) (l *launched, err error) {
	p, err := c.process()
	if err != nil {
		return nil, engineError(err)
	}
	cfg := ctrinit.Config{Rootfs: c.RootfsDir(), Hostname: c.hostname(), Loopback: c.Spec.Net != NetHost,
		Volumes: c.Spec.Volumes, ReadOnly: c.Spec.ReadOnly, Process: p}
	var layers overlay.Layers
	if c.Spec.Rootfs != "" {
		cfg.Rootfs = c.Spec.Rootfs
	} else {
		lower, err := c.LowerDirs()
		if err != nil {
			return nil, engineError(err)
		}
		layers = overlay.Layers{Lower: lower, Upper: c.UpperDir(), Work: c.WorkDir()}
	}
	if c.Spec.UserNS {
		cfg.UserNS = true // the parent mounts the layers: see attachIDMappedRoot
	} else {
		cfg.Layers = layers
	}
	defer func() {
		if err != nil {
			c.teardown(context.WithoutCancel(ctx))
		}
	}()
	h, err := hierarchy()
	if err != nil {
		return nil, engineError(err)
	}
	// v2: the init is born in its group (CLONE_INTO_CGROUP), which must
	// exist first. v1: the init joins its groups itself once released, so
	// they are made below, while the init starts: both overlap on the
	// machine's CPUs.
	var cgDir *os.File
	if h.Version == cgroup.V2 {
		if _, cgDir, err = c.createCgroup(); err != nil {
			return nil, engineError(err)
		}
	}
	cmd := c.initCommand()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	if cgDir != nil {
		defer cgDir.Close()
		cmd.SysProcAttr.UseCgroupFD = true
		cmd.SysProcAttr.CgroupFD = int(cgDir.Fd())
	}
	// The init dies with its parent (if `lab run` is killed, its container
	// goes too; prune removes the rest). A detached container's parent is
	// the supervisor.
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	cmd.SysProcAttr.Setsid = true
	var consoleSock, consoleChild *os.File
	if c.console {
		// -t: the init opens a pseudo-terminal in the container's own
		// devpts and sends its master end back over this socket (runc's
		// --console-socket), so /dev/pts/N inside names the command's
		// terminal.
		if consoleSock, consoleChild, err = socketPair("console"); err != nil {
			return nil, engineError(err)
		}
		defer consoleSock.Close()
		cfg.Console = true
	}
	configR, configW, err := os.Pipe()
	if err != nil {
		return nil, engineError(err)
	}
	defer configW.Close()
	errR, errW, err := os.Pipe()
	if err != nil {
		configR.Close()
		return nil, engineError(err)
	}
	defer errR.Close()
	cmd.ExtraFiles = []*os.File{configR, errW}            // fd 3, fd 4
	cmd.ExtraFiles = append(cmd.ExtraFiles, consoleChild) // fd 5 (none without -t)
	var rootSock, rootChild *os.File
	if c.Spec.UserNS {
		if rootSock, rootChild, err = socketPair("container root"); err != nil {
			configR.Close()
			errW.Close()
			return nil, engineError(err)
		}
		defer rootSock.Close()
		cmd.ExtraFiles = append(cmd.ExtraFiles, rootChild) // fd 6
	}
	err = cmd.Start()
	trace("init started (clone with the namespaces)")
	configR.Close()
	errW.Close()
	if consoleChild != nil {
		consoleChild.Close()
	}
	if rootChild != nil {
		rootChild.Close()
	}
	if err != nil {
		return nil, engineError(fmt.Errorf("start container init: %w", err))
	}
	l = &launched{cmd: cmd}
	defer func() {
		if err != nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}()
	if h.Version != cgroup.V2 {
		if cfg.Cgroups, _, err = c.createCgroup(); err != nil {
			return nil, engineError(err)
		}
		if c.Spec.UserNS {
			if err := delegateTasks(cfg.Cgroups); err != nil {
				return nil, engineError(err)
			}
		}
	}
	if c.Spec.UserNS {
		if err := attachIDMappedRoot(cmd.Process.Pid, layers, cfg.Rootfs, rootSock); err != nil {
			return nil, engineError(err)
		}
	}
	trace("cgroup made")
	network, err := c.startNetwork(ctx, cmd.Process.Pid, &cfg)
	if err != nil {
		return nil, engineError(err)
	}
	// The release: the init has been blocked reading fd 3 until now. It
	// builds the root file system while this process finishes the
	// network, and waits for the pipe's end of file before its execve.
	cfg.Trace = tracing
	trace("address leased, release")
	if err := json.NewEncoder(configW).Encode(cfg); err != nil {
		_ = network()
		return nil, engineError(fmt.Errorf("release container init: %w", err))
	}
	if err := network(); err != nil {
		return nil, engineError(err)
	}
	c.State.Status, c.State.Pid, c.State.Started = Running, cmd.Process.Pid, time.Now()
	if err := c.saveState(); err != nil {
		return nil, engineError(err)
	}
	trace("network wired, go")
	configW.Close()
	if consoleSock != nil {
		// Nothing arrives if the init fails first: its error follows.
		l.console, _ = receiveFD(consoleSock)
	}
	// fd 4 is close-on-exec in the init: EOF without a word means the
	// execve of the command succeeded.
	msg, _ := io.ReadAll(errR)
	trace("command running (execve done)")
	if len(msg) > 0 {
		code, text, _ := strings.Cut(string(msg), " ")
		n, convErr := strconv.Atoi(code)
		if convErr != nil {
			n, text = ExitEngine, string(msg)
		}
		if l.console != nil {
			l.console.Close()
		}
		return nil, &Error{Code: n, Err: errors.New(text)}
	}
	return l, nil
}

// delegateTasks hands the v1 "tasks" files of the container's groups to
// its root (cgroup v1 delegation is by file owner): the init, host uid
// UserNSHostID once in its user namespace, joins them itself as every
// init does. The kernel lets a writer move only processes of its own uid
// (or any, as host root), and the groups hold this container alone.
func delegateTasks(files []string) error {
	for _, f := range files {
		if err := os.Chown(f, UserNSHostID, UserNSHostID); err != nil {
			return fmt.Errorf("delegate %s to the container's root: %w", f, err)
		}
	}
	return nil
}

// attachIDMappedRoot mounts the container's layers as an overlay seen
// through the ID mapping of the init's user namespace, inside the init's
// mount namespace, before the init is released. The init could not do it
// itself: idmapping a host directory and mounting an overlay of host
// layers need privilege over the host's user namespace. Everything is
// mounted in the container's mount namespace only (made private first, so
// nothing propagates to the host), on a tmpfs over rootfs, and goes when
// the namespace does.
//
// The init, host uid UserNSHostID by now, may not even reach rootfs
// through the state directory (0700, root's): a descriptor of the
// overlay's root goes to it over the socket sock, and it works from there
// (fchdir(2)).
func attachIDMappedRoot(pid int, layers overlay.Layers, rootfs string, sock *os.File) error {
	path := fmt.Sprintf("/proc/%d/ns/user", pid)
	userns, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(userns)
	root := -1
	err = mount.InNamespaceOf(pid, func() error {
		if err := mount.MakeRPrivate("/"); err != nil {
			return err
		}
		root, err = overlay.MountIDMapped(layers, userns, UserNSHostID, UserNSHostID, rootfs)
		return err
	})
	if err != nil {
		return fmt.Errorf("--userns private: %w", err)
	}
	defer unix.Close(root)
	if err := unix.Sendmsg(int(sock.Fd()), []byte{0}, unix.UnixRights(root), nil, 0); err != nil {
		return fmt.Errorf("send the container's root to its init: %w", err)
	}
	return nil
}

// socketPair is a connected pair of unix sockets to pass descriptors on.
func socketPair(what string) (parent, child *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("%s socket: %w", what, err)
	}
	return os.NewFile(uintptr(fds[0]), what), os.NewFile(uintptr(fds[1]), what), nil
}

// tracing is LAB_TRACE (see ctrinit.TraceEnv), read once.
var tracing = os.Getenv(ctrinit.TraceEnv) != ""

// trace writes a phase of the parent when tracing.
func trace(phase string) { ctrinit.Trace(tracing, "lab", phase) }

// receiveFD reads the terminal's master end sent over a unix socket.
func receiveFD(sock *os.File) (*os.File, error) {
	fd, err := ctrinit.ReceiveFD(int(sock.Fd()))
	if err != nil {
		return nil, fmt.Errorf("receive console: %w", err)
	}
	return os.NewFile(uintptr(fd), "/dev/ptmx"), nil
}

// wireNetwork attaches the container's network namespace to the lab0
// bridge (--net bridge) and gives the init the /etc files that go with
// the network mode. The init brings lo up itself (none and bridge); host
// mode has no namespace of its own.
// startNetwork leases the container's address and makes its veth pair
// (bridge mode), and puts the /etc files that name it in cfg. The
// returned function finishes the network (eth0 inside the namespace, the
// bridge port forwarding); it must be called once, also after an error
// that follows.
func (c *Container) startNetwork(ctx context.Context, pid int, cfg *ctrinit.Config) (finish func() error, err error) {
	finish = func() error { return nil }
	var ep *cnet.Endpoint
	if c.Spec.Net == NetBridge {
		path := fmt.Sprintf("/proc/%d/ns/net", pid)
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: path, Err: err}
		}
		defer unix.Close(fd)
		pending, err := cnet.Start(ctx, c.Root, c.ID, fd, c.Spec.Ports)
		if err != nil {
			return nil, err
		}
		finish = func() error { _, err := pending.Wait(); return err }
		ep = &pending.Endpoint
		c.State.IP = ep.Addr.Addr().String()
		c.State.Ports = ep.Ports
	}
	files, err := cnet.EtcFiles(cfg.Hostname, ep, c.Spec.Net)
	if err != nil {
		return nil, errors.Join(err, finish())
	}
	cfg.Etc = files
	return finish, nil
}

// wait waits for the init's command to end and returns docker's exit code:
// its status, or 128+N after signal N.
func (l *launched) wait() int {
	err := l.cmd.Wait()
	return exitCodeOf(l.cmd.ProcessState, err)
}

func exitCodeOf(ps *os.ProcessState, err error) int {
	if ps == nil {
		if err != nil {
			return ExitEngine
		}
		return 0
	}
	ws, ok := ps.Sys().(syscall.WaitStatus)
	if ok && ws.Signaled() {
		return exitSignalBase + int(ws.Signal())
	}
	return ps.ExitCode()
}

// finish records how the container ended and releases its cgroup and
// network (the mounts went with its mount namespace). With --rm the state
// directory goes too.
func (c *Container) finish(ctx context.Context, code int) error {
	// The OOM killer sends SIGKILL: only a command that died of it (137)
	// may have been OOM-killed, and only then is the group's counter worth
	// reading (v1 memory.oom_control, v2 memory.events).
	if code == exitSignalBase+int(unix.SIGKILL) {
		if h, err := hierarchy(); err == nil {
			if n, err := h.ReadOOMKills(host, c.CgroupName()); err == nil && n > 0 {
				c.State.OOMKilled = true
			}
		}
	}
	c.State.Status, c.State.ExitCode, c.State.Finished = Exited, code, time.Now()
	c.State.Pid, c.State.IP = 0, "" // the address goes back to the pool
	// The kernel objects and the state directory are independent: release
	// both at once (the rmdir(2)s of a v1 cgroup wait on the kernel, the
	// directory removal on the disk). A crash in between leaves what Prune
	// finds either way: a lab-ctr-* group or a lease without a container.
	var wg sync.WaitGroup
	var teardownErr error
	wg.Go(func() { teardownErr = c.teardown(ctx) })
	var stateErr error
	if c.Spec.Remove {
		stateErr = c.removeDir()
	} else {
		stateErr = c.saveState()
	}
	wg.Wait()
	return errors.Join(teardownErr, stateErr)
}

// teardown releases the kernel objects of a container that no longer
// runs: its cgroup and its network. Idempotent.
func (c *Container) teardown(ctx context.Context) error {
	errs := []error{c.deleteCgroup()}
	if c.Spec.Net == NetBridge {
		errs = append(errs, cnet.Detach(ctx, c.Root, c.ID))
	}
	return errors.Join(errs...)
}

// removeDir deletes the state directory, under the lock.
func (c *Container) removeDir() error {
	unlock, err := lock(c.Root)
	if err != nil {
		return err
	}
	defer unlock()
	return os.RemoveAll(c.Dir())
}

// LowerDirs are the image's unpacked layers, top-most first (overlay's
// lowerdir= order).
func (c *Container) LowerDirs() ([]string, error) {
	if c.ImageID == "" {
		return nil, fmt.Errorf("container %s: runs on %s, not on an image", c.Name, c.Spec.Rootfs)
	}
	img, err := c.image()
	if err != nil {
		return nil, err
	}
	return img.LowerDirs(), nil
}

// supervisorAlive reports whether the process recorded as this container's
// supervisor still runs: same PID and same start time.
func (c *Container) supervisorAlive() bool {
	if c.State.Supervisor <= 0 {
		return false
	}
	st, err := procfs.StartTime(host, c.State.Supervisor)
	if err != nil || st != c.State.SupervisorStart {
		return false
	}
	// A zombie has exited: it only waits for its parent to collect it.
	status, err := procfs.ReadStatus(host, c.State.Supervisor)
	return err == nil && !strings.HasPrefix(status.State, "Z")
}
