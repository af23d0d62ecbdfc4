package cli

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/lab-edu/lab/kernel/container"
	"github.com/lab-edu/lab/kernel/kerneltest"
	"github.com/lab-edu/lab/kernel/netdev"
	"github.com/lab-edu/lab/steps/stepstest"
)

// TestChaosRunsThenPruneLeaveNothing is the acceptance test of crash
// safety: 200 `lab` commands, run as the real binary (this test binary as
// cli.Main), that mix --rm runs that succeed, fail and cannot start, -d +
// stop + rm, kill -9 of a detached container's supervisor and kill -9 of
// `lab run` itself at a random moment of its start-up, with a few bridge
// containers with a published port and a few with limits; then `lab
// container prune --all`. The host must be as before: no cgroup, mount,
// veth, namespace, iptables rule, process, state directory or lease.
func TestChaosRunsThenPruneLeaveNothing(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root, kerneltest.StaticBinary, kerneltest.Tool("busybox"),
		kerneltest.Tool("iptables"), kerneltest.Tool("iptables-save"))
	labInitBesideTestBinary(t)
	root := busyboxState(t)
	forward, err := netdev.Forwarding("")
	if err != nil {
		t.Fatal(err)
	}
	// prune --all turns forwarding off again with the bridge it removes
	// (cnet.Teardown); this covers a bridge that another test made.
	restoreForwarding := func() {
		if on, _ := netdev.Forwarding(""); on && !forward {
			if err := netdev.SetForwarding("", false); err != nil {
				t.Error(err)
			}
		}
	}
	t.Cleanup(restoreForwarding)
	ids := watchContainers(t, root)
	before := stepstest.Snapshot(t)
	t.Cleanup(func() { runBinary(t, root, "container", "prune", "--all") }) // after a t.Fatal

	rng := rand.New(rand.NewPCG(8, 200))
	counts := map[string]int{}
	for i := range 200 {
		kind := chaosKind(rng, i)
		counts[kind]++
		name := fmt.Sprintf("lab-t-a-chaos-%d", i)
		switch kind {
		case "true", "false", "exit3", "missing":
			cmd, want := map[string][]string{"true": {"true"}, "false": {"false"}, "exit3": {"sh", "-c", "exit 3"},
				"missing": {"lab-no-such-command"}}[kind], map[string]int{"true": 0, "false": 1, "exit3": 3, "missing": 127}[kind]
			args := append([]string{"run", "--rm", "--net", "none", "--name", name, "busybox"}, cmd...)
			if code, _, stderr := runBinary(t, root, args...); code != want {
				t.Fatalf("#%d lab %s: exit %d, want %d (%s)", i, strings.Join(args, " "), code, want, stderr)
			}
		case "limits":
			args := []string{"run", "--rm", "--net", "none", "--memory", "32m", "--pids-limit", "20", "--name", name, "busybox", "true"}
			if code, _, stderr := runBinary(t, root, args...); code != 0 {
				t.Fatalf("#%d lab %s: exit %d (%s)", i, strings.Join(args, " "), code, stderr)
			}
		case "bridge":
			args := []string{"run", "--rm", "--net", "bridge", "-p", fmt.Sprintf("127.0.0.1:%d:80", 28000+i), "--name", name, "busybox", "true"}
			if code, _, stderr := runBinary(t, root, args...); code != 0 {
				t.Fatalf("#%d lab %s: exit %d (%s)", i, strings.Join(args, " "), code, stderr)
			}
		case "stop-rm":
			id := detach(t, root, i, "--net", "none", "--name", name, "busybox", "sleep", "1000")
			for _, args := range [][]string{{"container", "stop", "-t", "1", id}, {"container", "rm", id}} {
				if code, _, stderr := runBinary(t, root, args...); code != 0 {
					t.Fatalf("#%d lab %s: exit %d (%s)", i, strings.Join(args, " "), code, stderr)
				}
			}
		case "kill-supervisor":
			net := []string{"--net", "none"}
			if rng.IntN(4) == 0 {
				net = []string{"--net", "bridge", "-p", fmt.Sprintf("127.0.0.1:%d:80", 28000+i)}
			}
			id := detach(t, root, i, append(net, "--name", name, "busybox", "sleep", "1000")...)
			c, err := container.Load(root, id)
			if err != nil {
				t.Fatalf("#%d load %s: %v", i, id, err)
			}
			if err := syscall.Kill(c.State.Supervisor, syscall.SIGKILL); err != nil {
				t.Fatalf("#%d kill the supervisor %d: %v", i, c.State.Supervisor, err)
			}
		case "kill-lab":
			// Mostly a foreground --rm run; sometimes on the bridge, or
			// a `lab run -d` killed while it starts the supervisor.
			mode := []string{"--rm", "--net", "none"}
			switch rng.IntN(4) {
			case 0:
				mode = []string{"--rm", "--net", "bridge"}
			case 1:
				mode = []string{"-d", "--net", "none"}
			}
			args := append(append([]string{"run"}, mode...), "--name", name, "busybox", "sleep", "1000")
			killMidway(t, root, time.Duration(rng.IntN(31))*time.Millisecond, args...)
		}
	}
	t.Logf("mix: %v", counts)

	if code, _, stderr := runBinary(t, root, "container", "prune", "--all"); code != 0 {
		t.Fatalf("lab container prune --all: exit %d (%s)", code, stderr)
	}
	restoreForwarding()
	requireHostAsBefore(t, root, before, ids())
}

// chaosKind picks what run i does. The mix is mostly cheap --net none runs
// (the whole test must stay well under a minute on two cores).
func chaosKind(rng *rand.Rand, i int) string {
	switch n := rng.IntN(100); {
	case n < 16:
		return "true"
	case n < 26:
		return "false"
	case n < 36:
		return "exit3"
	case n < 46:
		return "missing"
	case n < 52:
		return "limits"
	case n < 57:
		return "bridge"
	case n < 70:
		return "stop-rm"
	case n < 82:
		return "kill-supervisor"
	default:
		return "kill-lab"
	}
}

// detach runs `lab run -d ARGS` and returns the container's ID.
func detach(t *testing.T, root string, i int, args ...string) string {
	t.Helper()
	code, stdout, stderr := runBinary(t, root, append([]string{"run", "-d"}, args...)...)
	if code != 0 {
		t.Fatalf("#%d lab run -d %s: exit %d (%s)", i, strings.Join(args, " "), code, stderr)
	}
	return strings.TrimSpace(stdout)
}

// killMidway starts `lab ARGS` and SIGKILLs it after delay, wherever it
// is: parsing flags, creating the state directory, the cgroup, the
// network, starting a supervisor, or waiting for the container.
func killMidway(t *testing.T, root string, delay time.Duration, args ...string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "LAB_TEST_MAIN=1", "LAB_ROOT="+root)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(delay)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
}

// watchContainers records the ID of every container created under root,
// with inotify on root/containers: even an --rm container that lives a few
// milliseconds, so that the final comparison can tell this test's cgroups
// and veths from those of other tests running at the same time.
func watchContainers(t *testing.T, root string) (ids func() []string) {
	t.Helper()
	dir := filepath.Join(root, "containers")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_CREATE|unix.IN_MOVED_TO); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[string]bool{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 64<<10)
		for {
			n, err := unix.Read(fd, buf)
			if err != nil || n <= 0 {
				return
			}
			for off := 0; off+unix.SizeofInotifyEvent <= n; {
				ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
				name := strings.TrimRight(string(buf[off+unix.SizeofInotifyEvent:off+unix.SizeofInotifyEvent+int(ev.Len)]), "\x00")
				if len(name) == 64 {
					mu.Lock()
					seen[name] = true
					mu.Unlock()
				}
				off += unix.SizeofInotifyEvent + int(ev.Len)
			}
		}
	}()
	t.Cleanup(func() { unix.Close(fd) })
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		var out []string
		for id := range seen {
			out = append(out, id)
		}
		return out
	}
}

// requireHostAsBefore fails when anything of this test's containers is
// left: an addition to the host snapshot that names root, one of the
// containers (cgroup lab-ctr-<id12>, veth labv<id11>, rule lab-ctr:<id12>)
// or the shared bridge; a process of root (a supervisor, a lab command, a
// container); a state directory or a network lease. Other tests' objects
// (other prefixes) are only logged.
func requireHostAsBefore(t *testing.T, root string, before stepstest.State, ids []string) {
	t.Helper()
	t.Logf("%d containers created", len(ids))
	// Only additions count: prune --all may delete another test's idle
	// lab0 (a "-" line), which is no leak. The shared bridge and its rules
	// are this test's to remove only while no other container uses them
	// (no labv* veth of another test on the host).
	ours := func(line string, sharedInUse bool) bool {
		if !strings.HasPrefix(line, "+ ") {
			return false
		}
		if strings.Contains(line, root) {
			return true
		}
		for _, id := range ids {
			if strings.Contains(line, id[:12]) || strings.Contains(line, "labv"+id[:11]) {
				return true
			}
		}
		return !sharedInUse && (strings.Contains(line, "lab0") || strings.Contains(line, "10.88."))
	}
	var left []string
	var diff string
	// The kernel tears some things down asynchronously (a dying process,
	// a namespace's veth): re-read for a while. Other tests' differences
	// are waited out for a second only.
	start := time.Now()
	for ; ; time.Sleep(100 * time.Millisecond) {
		after := stepstest.Snapshot(t)
		diff = stepstest.Diff(before, after)
		sharedInUse := slices.ContainsFunc(after["link"], func(l string) bool { return strings.HasPrefix(l, "labv") })
		left = left[:0]
		for _, line := range strings.Split(diff, "\n") {
			if ours(line, sharedInUse) {
				left = append(left, line)
			}
		}
		left = append(left, processesOf(root, ids)...)
		if len(left) == 0 && (diff == "" || time.Since(start) > time.Second) || time.Since(start) > 5*time.Second {
			break
		}
	}
	if len(left) > 0 {
		t.Errorf("left behind:\n%s", strings.Join(left, "\n"))
	} else if diff != "" {
		t.Logf("host differences that are not this test's (other tests running?):\n%s", diff)
	}
	for _, dir := range []string{"containers", "network"} {
		entries, _ := os.ReadDir(filepath.Join(root, dir))
		for _, e := range entries {
			if !strings.HasPrefix(e.Name(), ".") {
				t.Errorf("%s/%s left behind", dir, e.Name())
			}
		}
	}
}

// processesOf lists live processes that belong to root: a lab command or
// supervisor (LAB_ROOT=root in its environment) or a process in one of
// root's container cgroups.
func processesOf(root string, ids []string) []string {
	entries, _ := os.ReadDir("/proc")
	var out []string
	self := fmt.Sprint(os.Getpid())
	for _, e := range entries {
		if e.Name() == self || e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		env, _ := os.ReadFile("/proc/" + e.Name() + "/environ")
		cg, _ := os.ReadFile("/proc/" + e.Name() + "/cgroup")
		cmdline, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		desc := fmt.Sprintf("process %s %q", e.Name(), strings.ReplaceAll(string(cmdline), "\x00", " "))
		if bytes.Contains(env, []byte("LAB_ROOT="+root+"\x00")) {
			out = append(out, desc+" (LAB_ROOT)")
			continue
		}
		for _, id := range ids {
			if bytes.Contains(cg, []byte(container.CgroupPrefix+id[:12])) {
				out = append(out, desc+" (cgroup)")
				break
			}
		}
	}
	return out
}
