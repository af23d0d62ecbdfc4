package ctrinit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lab-edu/lab/kernel/caps"
	"github.com/lab-edu/lab/kernel/mount"
	"github.com/lab-edu/lab/kernel/ns"
	"github.com/lab-edu/lab/kernel/overlay"
	"github.com/lab-edu/lab/kernel/rootfs"
)

// Main is the container's first process. It starts as the small lab-init
// binary (or as lab itself re-executed, see kernel/container), in the new
// namespaces, and ends by execve(2)ing the user's command, which takes over
// its PID: 1 in the container's PID namespace.
//
// CVE-2019-5736 (runc overwritten through /proc/self/exe): a process of the
// container could open /proc/PID/exe of a runtime process it can see and
// write the host's runtime binary through it. That needs the runtime
// process to be visible in the container's /proc while it still runs the
// runtime binary. Here it never is: until the execve below this init is
// the only process of the new PID namespace (nothing of the container runs
// yet), and after the execve PID 1 is the user's command, whose
// /proc/1/exe is the container's file. The parent and the supervisor stay
// in the host's PID namespace, which the container's /proc does not show.
// `lab container exec` is the one path where lab enters a running
// container: see kernel/container's execMain for its defence.
func Main() {
	// capset, the bounding set and execve act on the calling thread only:
	// everything from here runs on this one, which is never unlocked.
	runtime.LockOSThread()
	started := time.Now() // traced once the config says so
	code, err := initContainer(started)
	fail(code, err)
}

// fail reports err to the parent on ErrorFD and exits with code.
func fail(code int, err error) {
	msg := fmt.Sprintf("%d %v", code, err)
	if _, werr := unix.Write(ErrorFD, []byte(msg)); werr != nil {
		fmt.Fprintln(os.Stderr, msg)
	}
	os.Exit(code)
}

func initContainer(started time.Time) (int, error) {
	release := os.NewFile(ConfigFD, "config")
	cfg, err := readConfig(release)
	if err != nil {
		return ExitEngine, err
	}
	if cfg.Trace {
		TraceAt(started, "init", "running (Go runtime up)")
		Trace(true, "init", "released (config read)")
	}
	// Join the cgroup first, before any memory or process is charged: the
	// child writing 0 ("myself") into "tasks" costs about 0.2 ms, while the
	// parent moving it through cgroup.procs can wait 7-16 ms on v1 after
	// idle. (On v2 the child was born in its group: CLONE_INTO_CGROUP.)
	for _, tasks := range cfg.Cgroups {
		if err := os.WriteFile(tasks, []byte("0"), 0); err != nil {
			return ExitEngine, fmt.Errorf("join cgroup %s: %w", tasks, err)
		}
	}
	if cfg.Loopback {
		if err := loopbackUp(); err != nil {
			return ExitEngine, err
		}
	}
	Trace(cfg.Trace, "init", "cgroup joined, lo up")
	if err := setHostname(cfg); err != nil {
		return ExitEngine, err
	}
	if err := setupRoot(cfg); err != nil {
		return ExitEngine, err
	}
	Trace(cfg.Trace, "init", "root ready (overlay, pivot_root, /proc, /dev, /sys, masks)")
	if cfg.Console {
		if err := SetupConsole(ConsoleFD); err != nil {
			return ExitEngine, err
		}
	}
	if err := waitForNetwork(release); err != nil {
		return ExitEngine, err
	}
	Trace(cfg.Trace, "init", "execve")
	return ExecProcess(cfg.Process)
}

// setHostname names the container's UTS namespace.
func setHostname(cfg Config) error {
	if cfg.UserNS {
		// In a user namespace of its own the init cannot read the host's
		// namespace links (ptrace rules), but needs no check either: the
		// kernel refuses sethostname(2) in a UTS namespace this user
		// namespace does not own, such as the host's.
		if err := unix.Sethostname([]byte(cfg.Hostname)); err != nil {
			return fmt.Errorf("set hostname %q: %w", cfg.Hostname, err)
		}
		return nil
	}
	// Before pivot_root: ns.SetHostname checks, through the host's /proc,
	// that this is not the host's UTS namespace.
	return ns.SetHostname(cfg.Hostname)
}

// readConfig blocks until the parent releases this process by writing its
// configuration into the pipe.
func readConfig(release *os.File) (Config, error) {
	var cfg Config
	if err := json.NewDecoder(release).Decode(&cfg); err != nil {
		return cfg, fmt.Errorf("read init config: %w", err)
	}
	return cfg, nil
}

// waitForNetwork blocks until the parent closes the config pipe: the parent
// finishes the container's network (eth0 inside, the bridge port
// forwarding) while this process builds the root, and the command must
// not start before its network is there. The parent writes nothing more
// (what may be left is the newline after the JSON value).
func waitForNetwork(release *os.File) error {
	defer release.Close()
	rest, err := io.ReadAll(release)
	if err != nil {
		return fmt.Errorf("wait for the container's network: %w", err)
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return fmt.Errorf("wait for the container's network: unexpected %q after the config", rest)
	}
	return nil
}

// setupRoot builds the container's file system view and moves into it.
func setupRoot(cfg Config) (err error) {
	// Mounts made from now on stay in this mount namespace: with / shared
	// (systemd's default) they would propagate back to the host.
	if err := mount.MakeRPrivate("/"); err != nil {
		return err
	}
	root := cfg.Rootfs
	if cfg.UserNS {
		// The parent attached the root and sends its descriptor: from
		// here on the root is the working directory, ".".
		if root, err = enterRootFromParent(); err != nil {
			return err
		}
	}
	if len(cfg.Layers.Lower) > 0 {
		if err := overlay.Mount(cfg.Layers, root); err != nil {
			return err
		}
	}
	if err := rootfs.WriteFiles(root, "etc", cfg.Etc); err != nil {
		return err
	}
	// Volume sources are host paths: take a detached copy of each now
	// (open_tree(2) with OPEN_TREE_CLONE, what mount --bind does in two
	// steps with the new mount API) and attach it after pivot_root with
	// move_mount(2), so the target path is resolved inside the container
	// (a symbolic link in the image cannot point a mount at a host
	// directory) while the source is still reachable.
	sources := make([]int, len(cfg.Volumes))
	for i, v := range cfg.Volumes {
		fd, err := unix.OpenTree(unix.AT_FDCWD, v.Source, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
		if err != nil {
			return &os.PathError{Op: "open_tree", Path: v.Source, Err: err}
		}
		sources[i] = fd
	}
	if cfg.UserNS {
		if err := pivotInUserNS(root); err != nil {
			return err
		}
	} else if err := pivotAndMountKernelFS(root); err != nil {
		return err
	}
	if err := rootfs.DevPtsAndShm("/"); err != nil {
		return err
	}
	for i, v := range cfg.Volumes {
		if err := bindVolume(sources[i], v); err != nil {
			return err
		}
		unix.Close(sources[i])
	}
	if err := rootfs.Mask(rootfs.MaskedPaths...); err != nil {
		return err
	}
	if err := rootfs.MakeReadonly(rootfs.ReadonlyPaths...); err != nil {
		return err
	}
	if cfg.ReadOnly {
		if err := rootfs.RemountReadonly("/"); err != nil {
			return err
		}
	}
	return nil
}

// enterRootFromParent makes the root the parent attached (RootFD) the
// working directory, and returns "." to name it.
func enterRootFromParent() (string, error) {
	fd, err := ReceiveFD(RootFD)
	if err != nil {
		return "", fmt.Errorf("receive the container's root: %w", err)
	}
	defer unix.Close(fd)
	unix.Close(RootFD)
	if err := unix.Fchdir(fd); err != nil {
		return "", fmt.Errorf("enter the container's root: %w", err)
	}
	return ".", nil
}

// pivotAndMountKernelFS moves into root and gives it a fresh /proc, a
// minimal /dev and a read-only /sys.
func pivotAndMountKernelFS(root string) error {
	// pivot_root, then detach the old root: nothing of the host's tree is
	// left in this mount namespace (a chroot would leave it reachable).
	if err := rootfs.PivotRoot(root); err != nil {
		return err
	}
	// The kernel file systems are mounted after pivot_root, on paths now
	// resolved inside the container: a symbolic link /proc -> /etc in the
	// image cannot redirect a mount onto a host directory. (PivotRoot
	// also bind-mounts the new root onto itself without its submounts.)
	if err := rootfs.MountProc("/"); err != nil {
		return err
	}
	if err := rootfs.MinimalDev("/"); err != nil {
		return err
	}
	return rootfs.MountSys("/")
}

// pivotInUserNS is pivotAndMountKernelFS for an init in a user namespace
// of its own, where the kernel refuses mknod(2) of devices and a proc or
// sysfs mount once no whole one is visible (see kernel/rootfs): the
// device nodes are bind mounts of the host's, cloned while the host's
// /dev is reachable, and /proc and /sys are mounted (resolved inside
// root) before pivot_root detaches the old root. Root is already a mount
// point (the parent attached the overlay there), so it is not bound onto
// itself, which would leave /proc and /sys behind.
func pivotInUserNS(root string) error {
	clones, err := rootfs.CloneDevices()
	if err != nil {
		return err
	}
	defer clones.Close()
	if err := rootfs.MountKernelFSInRoot(root); err != nil {
		return err
	}
	if err := rootfs.PivotRootMountpoint(root); err != nil {
		return err
	}
	return rootfs.MinimalDevFrom("/", clones)
}

// bindVolume attaches the detached bind mount fd (of v.Source) at v.Target.
func bindVolume(fd int, v Volume) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return &os.PathError{Op: "stat volume", Path: v.Source, Err: err}
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		if err := os.MkdirAll(v.Target, 0o755); err != nil {
			return err
		}
	} else {
		if err := os.MkdirAll(filepath.Dir(v.Target), 0o755); err != nil {
			return err
		}
		f, err := os.OpenFile(v.Target, os.O_CREATE|os.O_RDONLY, 0o644)
		if err != nil {
			return err
		}
		f.Close()
	}
	if err := unix.MoveMount(fd, "", unix.AT_FDCWD, v.Target, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return &mount.Error{Op: "move_mount", Source: v.Source, Target: v.Target, Err: err}
	}
	if v.ReadOnly {
		return rootfs.RemountReadonly(v.Target)
	}
	return nil
}

// ExecProcess does the last steps of both init and exec, in the container's
// root: limits, working directory, user, capabilities, descriptors, then
// execve. It returns only on failure, with docker's exit code.
func ExecProcess(p Process) (int, error) {
	// The Go runtime raised its own soft limit of open files; a container
	// gets Docker's 1048576 (when the host's hard limit allows it).
	var nofile unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &nofile); err == nil {
		n := min(uint64(1<<20), nofile.Max)
		_ = unix.Setrlimit(unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: n, Max: n})
	}
	uid, gid, home, err := lookupUser(p.User)
	if err != nil {
		return ExitEngine, err
	}
	if err := enterWorkdir(p.Cwd); err != nil {
		return ExitEngine, err
	}
	env := withDefaults(p.Env, home)
	path, code, err := lookPath(p.Args[0], env)
	if err != nil {
		return code, err
	}
	// Effective, permitted and bounding get exactly p.Caps; inheritable and
	// ambient stay empty, so nothing passes an execve the kernel would not
	// grant anyway. no_new_privs: no setuid binary or file capability can
	// give more than this afterwards.
	creds := caps.Creds{
		Sets:       caps.Sets{Effective: p.Caps, Permitted: p.Caps, Bounding: p.Caps},
		UID:        [3]int{uid, uid, uid},
		GID:        [3]int{gid, gid, gid},
		Groups:     []int{gid},
		NoNewPrivs: true,
	}
	if uid != 0 {
		// A non-root user keeps capabilities only in the bounding set: the
		// execve below would clear effective and permitted anyway.
		creds.Effective, creds.Permitted = 0, 0
	}
	if err := caps.ApplyBeforeExec(creds); err != nil {
		return ExitEngine, err
	}
	// Every descriptor above 2 that this process inherited or opened is
	// closed by the execve (close_range marks them close-on-exec; closing
	// them now would pull the Go runtime's own descriptors away). The
	// command starts with stdin, stdout and stderr only.
	if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return ExitEngine, fmt.Errorf("close inherited descriptors: %w", err)
	}
	err = unix.Exec(path, p.Args, env)
	code = ExitCannotRun
	if errors.Is(err, unix.ENOENT) {
		code = ExitNotFound
	}
	return code, fmt.Errorf("exec %s: %w", p.Args[0], err)
}

// enterWorkdir changes to dir, creating it like docker does, and proves the
// result is inside the container's root: getcwd(2) fails (or starts with
// "(unreachable)") for a directory outside it, such as one reached
// through an inherited descriptor, /proc/self/fd/N (runc's CVE-2024-21626).
func enterWorkdir(dir string) error {
	if dir == "" {
		dir = "/"
	}
	if !filepath.IsAbs(dir) {
		return fmt.Errorf("container: working directory %q is not absolute", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("create working directory: %w", err)
	}
	if err := unix.Chdir(dir); err != nil {
		return &os.PathError{Op: "chdir", Path: dir, Err: err}
	}
	wd, err := unix.Getwd()
	if err != nil || !strings.HasPrefix(wd, "/") {
		return fmt.Errorf("container: working directory %q is outside the container's root", dir)
	}
	return nil
}

// lookupUser resolves -u: "UID", "UID:GID", "NAME" or "NAME:GROUP", names
// read from the container's own /etc/passwd and /etc/group.
func lookupUser(spec string) (uid, gid int, home string, err error) {
	if spec == "" {
		return 0, 0, "/root", nil
	}
	userPart, groupPart, hasGroup := strings.Cut(spec, ":")
	uid, gid, home = -1, -1, "/"
	if n, err := strconv.Atoi(userPart); err == nil && n >= 0 {
		uid = n
	}
	for _, f := range readColonFile("/etc/passwd") {
		if len(f) < 6 {
			continue
		}
		if f[0] == userPart || (uid >= 0 && f[2] == strconv.Itoa(uid)) {
			uid, _ = strconv.Atoi(f[2])
			gid, _ = strconv.Atoi(f[3])
			home = f[5]
			break
		}
	}
	if uid < 0 {
		return 0, 0, "", fmt.Errorf("container: user %q: no such user in the image's /etc/passwd", userPart)
	}
	if gid < 0 {
		gid = uid
	}
	if hasGroup {
		if n, err := strconv.Atoi(groupPart); err == nil && n >= 0 {
			return uid, n, home, nil
		}
		for _, f := range readColonFile("/etc/group") {
			if len(f) >= 3 && f[0] == groupPart {
				gid, _ = strconv.Atoi(f[2])
				return uid, gid, home, nil
			}
		}
		return 0, 0, "", fmt.Errorf("container: group %q: no such group in the image's /etc/group", groupPart)
	}
	return uid, gid, home, nil
}

func readColonFile(path string) [][]string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out [][]string
	for _, line := range strings.Split(string(b), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, strings.Split(line, ":"))
		}
	}
	return out
}

// defaultPath is docker's PATH for an image that sets none.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// withDefaults adds PATH and HOME when env lacks them.
func withDefaults(env []string, home string) []string {
	has := func(k string) bool {
		for _, e := range env {
			if strings.HasPrefix(e, k+"=") {
				return true
			}
		}
		return false
	}
	if !has("PATH") {
		env = append(env, "PATH="+defaultPath)
	}
	if !has("HOME") {
		env = append(env, "HOME="+home)
	}
	return env
}

// lookPath finds name in the PATH of env, in the container's root (not
// the PATH of this process: exec.LookPath would use that).
func lookPath(name string, env []string) (string, int, error) {
	if strings.Contains(name, "/") {
		return name, 0, nil
	}
	path := defaultPath
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			path = v
		}
	}
	for _, dir := range filepath.SplitList(path) {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			if fi.Mode()&0o111 == 0 {
				return "", ExitCannotRun, fmt.Errorf("exec %s: permission denied", name)
			}
			return p, 0, nil
		}
	}
	return "", ExitNotFound, fmt.Errorf("exec %s: executable file not found in $PATH", name)
}

// ReceiveFD reads one descriptor sent over the unix socket sock
// (SCM_RIGHTS), close-on-exec.
func ReceiveFD(sock int) (int, error) {
	buf, oob := make([]byte, 1), make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := unix.Recvmsg(sock, buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return -1, err
	}
	if n == 0 || oobn == 0 {
		return -1, errors.New("nothing was sent")
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) == 0 {
		return -1, fmt.Errorf("read control message: %w", err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) == 0 {
		return -1, fmt.Errorf("read descriptor: %w", err)
	}
	return fds[0], nil
}

// SetupConsole gives the command a pseudo-terminal of the container's own
// devpts: it opens /dev/ptmx (the master end; the kernel creates
// /dev/pts/N), unlocks and opens /dev/pts/N (the slave end), sends the
// master to the parent over the console socket, makes the slave stdin,
// stdout and stderr, and this session's controlling terminal (TIOCSCTTY;
// the init is a session leader: setsid at clone).
func SetupConsole(sock int) error {
	defer unix.Close(sock)
	master, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: "/dev/ptmx", Err: err}
	}
	defer unix.Close(master)
	if err := unix.IoctlSetPointerInt(master, unix.TIOCSPTLCK, 0); err != nil {
		return fmt.Errorf("unlock pty: %w", err)
	}
	n, err := unix.IoctlGetUint32(master, unix.TIOCGPTN)
	if err != nil {
		return fmt.Errorf("pty number: %w", err)
	}
	name := fmt.Sprintf("/dev/pts/%d", n)
	slave, err := unix.Open(name, unix.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: name, Err: err}
	}
	if err := unix.Sendmsg(sock, []byte{0}, unix.UnixRights(master), nil, 0); err != nil {
		return fmt.Errorf("send console: %w", err)
	}
	for fd := 0; fd <= 2; fd++ {
		if err := unix.Dup3(slave, fd, 0); err != nil {
			return fmt.Errorf("dup %s: %w", name, err)
		}
	}
	unix.Close(slave)
	if err := unix.IoctlSetInt(0, unix.TIOCSCTTY, 0); err != nil {
		return fmt.Errorf("make %s the controlling terminal: %w", name, err)
	}
	return nil
}
