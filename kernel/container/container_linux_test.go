package container

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lab-edu/lab/kernel/caps"
	"github.com/lab-edu/lab/kernel/cgroup"
	"github.com/lab-edu/lab/kernel/image"
	"github.com/lab-edu/lab/kernel/kerneltest"
	"github.com/lab-edu/lab/kernel/ns"
	"github.com/lab-edu/lab/kernel/procfs"
	"github.com/lab-edu/lab/kernel/rootfs"
	"github.com/lab-edu/lab/steps/stepstest"
)

// newRoot is a fresh state directory with the busybox image, and a check
// at the end of the test that none of its containers left anything.
func newRoot(t *testing.T) string {
	t.Helper()
	kerneltest.Requires(t, kerneltest.Root, kerneltest.Tool("busybox"), kerneltest.Tool("nsenter"))
	root := t.TempDir()
	s, err := image.Open(filepath.Join(root, "images"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ImportBusybox("", "busybox", image.Options{}); err != nil {
		t.Fatal(err)
	}
	before := stepstest.Snapshot(t)
	t.Cleanup(func() {
		if _, err := Prune(context.Background(), root, true); err != nil {
			t.Errorf("prune: %v", err)
		}
		requireNothingLeft(t, root, before)
	})
	return root
}

// requireNothingLeft fails when the host has, compared with before, any
// object of a container of root: a cgroup, a mount, a veth, a process,
// an iptables rule (other helpers' tests run at the same time, so only
// differences naming one of root's containers count), or a state directory.
func requireNothingLeft(t *testing.T, root string, before stepstest.State) {
	t.Helper()
	var ours []string
	deadline := time.Now().Add(3 * time.Second)
	for {
		ours = ours[:0]
		for _, line := range strings.Split(stepstest.Diff(before, stepstest.Snapshot(t)), "\n") {
			if strings.Contains(line, root) || strings.Contains(line, CgroupPrefix) && touchesRoot(root, line) {
				ours = append(ours, line)
			}
		}
		if len(ours) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(ours) > 0 {
		t.Errorf("left behind:\n%s", strings.Join(ours, "\n"))
	}
	if list, _ := ids(root); len(list) > 0 {
		t.Errorf("state directories left: %v", list)
	}
}

// touchesRoot reports whether a diff line names a container that was
// created under root in this test (its cgroup name was recorded).
func touchesRoot(root, line string) bool {
	for _, id := range created[root] {
		if strings.Contains(line, id[:12]) {
			return true
		}
	}
	return false
}

var created = map[string][]string{}

func newContainer(t *testing.T, root string, spec Spec) *Container {
	t.Helper()
	if spec.Image == "" {
		spec.Image = "busybox"
	}
	if spec.Net == "" {
		spec.Net = NetNone
	}
	c, err := Create(context.Background(), root, spec)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	created[root] = append(created[root], c.ID)
	return c
}

// run runs a foreground container and returns its exit code and output.
func run(t *testing.T, root string, spec Spec) (int, string, string) {
	t.Helper()
	c := newContainer(t, root, spec)
	var out, errOut bytes.Buffer
	code, err := c.Attach(context.Background(), Stdio{Out: &out, Err: &errOut})
	if err != nil && code < 125 {
		t.Fatalf("run %v: %v", spec.Cmd, err)
	}
	if err != nil {
		errOut.WriteString(err.Error())
	}
	return code, out.String(), errOut.String()
}

// start runs a detached container.
func start(t *testing.T, root string, spec Spec) *Container {
	t.Helper()
	spec.Detach = true
	c := newContainer(t, root, spec)
	if err := c.Start(context.Background()); err != nil {
		t.Fatalf("start: %v", err)
	}
	return c
}

// hostDisk is a block device of the host (major:minor), for the tests
// that prove a container cannot reach it.
func hostDisk(t *testing.T) string {
	entries, _ := os.ReadDir("/sys/block")
	for _, e := range entries {
		if b, err := os.ReadFile(filepath.Join("/sys/block", e.Name(), "dev")); err == nil && !strings.HasPrefix(e.Name(), "loop") {
			return strings.TrimSpace(string(b))
		}
	}
	t.Fatal("no block device in /sys/block")
	return ""
}

// TestDefaultContainerInside checks, from inside a default container, what
// its command sees.
func TestDefaultContainerInside(t *testing.T) {
	root := newRoot(t)
	marker := filepath.Join(root, "host-marker")
	if err := os.WriteFile(marker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	disk := strings.Replace(hostDisk(t), ":", " ", 1)
	script := strings.Join([]string{
		`echo "pid1=$(cat /proc/1/comm)"`,
		`echo "pids=$(cd /proc && echo [0-9]*)"`,
		`echo "hostname=$(hostname)"`,
		`echo 1 2>/dev/null > /proc/sys/kernel/ns_last_pid && echo procsys=rw || echo procsys=ro`,
		`touch /sys/lab 2>/dev/null && echo sys=rw || echo sys=ro`,
		`echo "keys=$(cat /proc/keys 2>/dev/null | wc -c)"`,
		`echo "kcore=$(head -c 16 /proc/kcore 2>/dev/null | wc -c)"`,
		`mknod /tmp/disk b ` + disk + ` 2>/dev/null && echo mknod=ok || echo mknod=denied`,
		`mknod /dev/disk b ` + disk + ` 2>/dev/null; head -c 1 /dev/disk 2>/dev/null | wc -c | sed 's/^/diskread=/'`,
		`test -e ` + marker + ` && echo oldroot=visible || echo oldroot=gone`,
		`ping -c 1 -W 1 127.0.0.1 >/dev/null 2>&1 && echo raw=ok || echo raw=denied`,
	}, "; ")
	code, out, errOut := run(t, root, Spec{Hostname: "lab-t-a-box", Cmd: []string{"sh", "-c", script}})
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		k, v, _ := strings.Cut(line, "=")
		got[k] = strings.TrimSpace(v)
	}
	want := map[string]string{
		"pid1": "sh", "hostname": "lab-t-a-box", "procsys": "ro", "sys": "ro", "keys": "0", "kcore": "0",
		"mknod": "denied", "diskread": "0", "oldroot": "gone", "raw": "ok",
	}
	for k, v := range want {
		t.Run(k, func(t *testing.T) {
			if got[k] != v {
				t.Errorf("%s = %q, want %q (output:\n%s)", k, got[k], v, out)
			}
		})
	}
	t.Run("no host process visible", func(t *testing.T) {
		// PID 1 (sh) and the subshell of $(...), numbered from 1 in the
		// container's PID namespace: nothing of the host.
		pids := strings.Fields(got["pids"])
		if len(pids) == 0 || len(pids) > 3 || pids[0] != "1" {
			t.Errorf("the container sees processes %v, want 1 and at most two more", pids)
		}
	})
}

// TestDefaultContainerOutside checks a running default container from the
// host, with the kernel's own records (/proc/PID/status, ns links).
func TestDefaultContainerOutside(t *testing.T) {
	root := newRoot(t)
	c := start(t, root, Spec{Name: "lab-t-a-outside", Hostname: "lab-t-a-out", Cmd: []string{"sleep", "1000"}})
	pid := c.State.Pid
	st, err := procfs.ReadStatus(host, pid)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("PID 1 is the command", func(t *testing.T) {
		if n := st.NSpid; len(n) < 2 || n[len(n)-1] != 1 || st.Name != "sleep" {
			t.Errorf("process %d: %s with NSpid %v, want sleep with PID 1 in its namespace", pid, st.Name, n)
		}
	})
	t.Run("namespaces", func(t *testing.T) {
		for _, k := range []ns.Kind{ns.PID, ns.UTS, ns.Mount, ns.IPC, ns.Net} {
			if same, err := ns.SameAsHost(host, pid, k); err != nil || same {
				t.Errorf("%s namespace is the host's (%v)", k, err)
			}
		}
	})
	t.Run("hostname", func(t *testing.T) {
		if n, err := ns.UTSNames(pid); err != nil || n.Hostname != "lab-t-a-out" {
			t.Errorf("hostname %+v, %v", n, err)
		}
	})
	t.Run("capabilities", func(t *testing.T) {
		s := caps.FromStatus(st)
		if s.Effective != caps.DockerDefault || s.Permitted != caps.DockerDefault || s.Bounding != caps.DockerDefault || s.Inheritable != 0 || s.Ambient != 0 {
			t.Errorf("sets %+v, want Docker's 14 in effective, permitted and bounding only", s)
		}
		if !st.NoNewPrivs {
			t.Error("NoNewPrivs is 0")
		}
	})
	t.Run("no fd above 2", func(t *testing.T) {
		fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
		if len(fds) != 3 {
			var names []string
			for _, fd := range fds {
				l, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
				names = append(names, fd.Name()+"->"+l)
			}
			t.Errorf("PID 1 has descriptors %v", names)
		}
	})
	t.Run("chroot escape fails", func(t *testing.T) {
		r, err := rootfs.EscapeFromProcess(context.Background(), pid)
		if err != nil {
			t.Fatal(err)
		}
		if r.Escaped {
			t.Errorf("escaped to the host's root: %+v", r)
		}
	})
	t.Run("devices", func(t *testing.T) {
		h, _ := hierarchy()
		if h.Version == cgroup.V1 {
			b, err := os.ReadFile(h.Path(cgroup.File{Controller: cgroup.Devices, V1: "devices.list"}, c.CgroupName()))
			if err != nil || strings.Contains(string(b), "b ") || strings.Contains(string(b), "a *:* rwm") {
				t.Errorf("devices.list:\n%s (%v)", b, err)
			}
		}
	})
	t.Run("inspect", func(t *testing.T) {
		info := c.Inspect()
		if info.State.Status != Running || info.State.Pid != pid || len(info.Caps) != 14 {
			t.Errorf("inspect %+v", info)
		}
	})
	if err := c.Stop(context.Background(), time.Second); err != nil {
		t.Fatal(err)
	}
	if c.State.Status != Exited || c.State.ExitCode != 137 {
		t.Errorf("after stop of a sleep that ignores SIGTERM: %+v, want exited 137", c.State)
	}
}

func TestCapDropAll(t *testing.T) {
	root := newRoot(t)
	code, out, _ := run(t, root, Spec{CapDrop: []string{"ALL"}, Cmd: []string{"sh", "-c",
		`grep -E '^Cap(Eff|Prm|Bnd|Inh|Amb)|NoNewPrivs' /proc/1/status; ping -c 1 -W 1 127.0.0.1 >/dev/null 2>&1 && echo raw=ok || echo raw=denied`}})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	for _, want := range []string{"CapEff:\t0000000000000000", "CapPrm:\t0000000000000000", "CapBnd:\t0000000000000000", "NoNewPrivs:\t1", "raw=denied"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	code, out, _ = run(t, root, Spec{CapDrop: []string{"NET_RAW"}, Cmd: []string{"sh", "-c", `ping -c 1 -W 1 127.0.0.1 >/dev/null 2>&1 && echo raw=ok || echo raw=denied`}})
	if code != 0 || !strings.Contains(out, "raw=denied") {
		t.Errorf("--cap-drop NET_RAW: exit %d, %s", code, out)
	}
}

func TestMemoryLimitOOMKill(t *testing.T) {
	root := newRoot(t)
	c := newContainer(t, root, Spec{Memory: 32 << 20, Cmd: []string{"dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"}})
	code, err := c.Attach(context.Background(), Stdio{})
	if err != nil {
		t.Fatal(err)
	}
	if code != 137 || !c.State.OOMKilled {
		t.Fatalf("exit %d, OOMKilled %v; want 137 and true", code, c.State.OOMKilled)
	}
	again, err := Load(root, c.ID)
	if err != nil || !again.Inspect().State.OOMKilled {
		t.Fatalf("inspect after the run: %+v, %v", again, err)
	}
}

func TestPidsLimitStopsForkBomb(t *testing.T) {
	root := newRoot(t)
	code, out, _ := run(t, root, Spec{PidsLimit: 20, Cmd: []string{"sh", "-c",
		`(for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30; do sleep 3 & done) 2>/dev/null; cd /proc; set -- [0-9]*; echo "procs=$#"`}})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	var procs int
	fmt.Sscanf(strings.TrimSpace(out[strings.Index(out, "procs="):]), "procs=%d", &procs)
	if procs == 0 || procs > 20 {
		t.Fatalf("the container reached %d processes with --pids-limit 20 (%s)", procs, out)
	}
}

func TestCPUsThrottle(t *testing.T) {
	root := newRoot(t)
	c := start(t, root, Spec{CPUs: 0.2, Cmd: []string{"sh", "-c", "while :; do :; done"}})
	h, _ := hierarchy()
	before, err := h.ReadCPUUsage(host, c.CgroupName())
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(600 * time.Millisecond)
	after, _ := h.ReadCPUUsage(host, c.CgroupName())
	th, err := h.ReadThrottling(host, c.CgroupName())
	if err != nil {
		t.Fatal(err)
	}
	used := after - before
	if used > 250*time.Millisecond || th.Throttled == 0 {
		t.Fatalf("a busy loop with --cpus 0.2 used %s of CPU in 600ms, throttled %d times", used, th.Throttled)
	}
	if err := c.Remove(context.Background(), true); err != nil {
		t.Fatal(err)
	}
}

func TestBadInputCreatesNothing(t *testing.T) {
	root := newRoot(t)
	ctx := context.Background()
	newContainer(t, root, Spec{Name: "lab-t-a-taken", Cmd: []string{"true"}})
	for name, spec := range map[string]Spec{
		"unknown image":           {Image: "nosuch", Cmd: []string{"true"}},
		"name in use":             {Image: "busybox", Name: "lab-t-a-taken", Cmd: []string{"true"}},
		"missing volume":          {Image: "busybox", Volumes: []Volume{{Source: filepath.Join(root, "nosuch"), Target: "/data"}}, Cmd: []string{"true"}},
		"bad capability":          {Image: "busybox", CapAdd: []string{"CAP_NOPE"}, Cmd: []string{"true"}},
		"bad network":             {Image: "busybox", Net: "wifi", Cmd: []string{"true"}},
		"userns and host network": {Image: "busybox", UserNS: true, Net: NetHost, Cmd: []string{"true"}},
	} {
		t.Run(name, func(t *testing.T) {
			code, err := Run(ctx, root, spec, Stdio{})
			var ce *Error
			if code != ExitEngine || !errors.As(err, &ce) || ce.Code != ExitEngine {
				t.Fatalf("exit %d, %v; want 125", code, err)
			}
			if list, _ := ids(root); len(list) != 1 {
				t.Fatalf("%d containers after a refused run, want 1", len(list))
			}
		})
	}
	t.Run("command not found", func(t *testing.T) {
		code, _, _ := run(t, root, Spec{Cmd: []string{"nosuch"}})
		if code != ExitNotFound {
			t.Fatalf("exit %d, want 127", code)
		}
	})
	t.Run("command not executable", func(t *testing.T) {
		code, _, _ := run(t, root, Spec{Cmd: []string{"/etc/passwd"}})
		if code != ExitCannotRun {
			t.Fatalf("exit %d, want 126", code)
		}
	})
}

func TestDetachLogsStopRemove(t *testing.T) {
	root := newRoot(t)
	ctx := context.Background()
	c := start(t, root, Spec{Name: "lab-t-a-detached", Cmd: []string{"sh", "-c", `trap 'echo bye; exit 3' TERM; echo hello; echo oops >&2; while :; do sleep 0.05; done`}})
	if !c.IsRunning() {
		t.Fatalf("state after start: %+v", c.State)
	}
	// PID 1 ignores SIGTERM until its trap is set: wait for what follows.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if b, _ := os.ReadFile(c.LogPath()); strings.Contains(string(b), "oops") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the container wrote nothing to its log in 5s")
		}
	}
	procs, err := c.Top()
	if err != nil || len(procs) == 0 {
		t.Fatalf("top: %v, %v", procs, err)
	}
	if err := c.Pause(); err != nil {
		t.Fatal(err)
	}
	h, _ := hierarchy()
	if s, _ := h.ReadFreezeState(host, c.CgroupName()); s != cgroup.Frozen {
		t.Fatalf("freezer state %q after pause", s)
	}
	if err := c.Unpause(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Stats(); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(ctx, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if c.State.Status != Exited || c.State.ExitCode != 3 {
		t.Fatalf("after stop: %+v", c.State)
	}
	var logs bytes.Buffer
	if err := c.Logs(ctx, &logs, true); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"hello", "oops", "bye"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %q:\n%s", want, logs.String())
		}
	}
	if err := c.Remove(ctx, false); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(root, "lab-t-a-detached"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("load after rm: %v", err)
	}
}

func TestRemoveOptionLeavesNothing(t *testing.T) {
	root := newRoot(t)
	code, out, _ := run(t, root, Spec{Remove: true, Cmd: []string{"sh", "-c", "echo hi > /tmp/f; cat /tmp/f"}})
	if code != 0 || out != "hi\n" {
		t.Fatalf("exit %d, %q", code, out)
	}
	if list, _ := ids(root); len(list) != 0 {
		t.Fatalf("--rm left %v", list)
	}
	c := start(t, root, Spec{Remove: true, Cmd: []string{"true"}})
	if _, err := c.Wait(context.Background()); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	if list, _ := ids(root); len(list) != 0 {
		t.Fatalf("-d --rm left %v", list)
	}
}

func TestKilledSupervisorThenPrune(t *testing.T) {
	for _, userNS := range []bool{false, true} {
		t.Run(fmt.Sprintf("userns=%v", userNS), func(t *testing.T) {
			root := newRoot(t)
			c := start(t, root, Spec{Name: "lab-t-a-orphan", UserNS: userNS, Cmd: []string{"sleep", "1000"}})
			if err := syscallKill(c.State.Supervisor); err != nil {
				t.Fatal(err)
			}
			// Pdeathsig takes the container with its supervisor; prune finds
			// the container marked running with no supervisor and cleans up
			// after it (newRoot's check: no cgroup, mount or process left).
			if !c.waitSupervisor(5 * time.Second) {
				t.Fatal("the supervisor survived SIGKILL")
			}
			removed, err := Prune(context.Background(), root, false)
			if err != nil {
				t.Fatal(err)
			}
			if len(removed) != 1 || removed[0] != "lab-t-a-orphan" {
				t.Fatalf("prune removed %v", removed)
			}
			h, _ := hierarchy()
			if h.Exists(host, cgroup.Pids, c.CgroupName()) {
				t.Fatal("the cgroup is still there")
			}
		})
	}
}

func TestExec(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root, kerneltest.StaticBinary)
	root := newRoot(t)
	c := start(t, root, Spec{Hostname: "lab-t-a-exec", CapDrop: []string{"NET_RAW"}, Cmd: []string{"sleep", "1000"}})
	var out bytes.Buffer
	code, err := c.Exec(context.Background(), ExecSpec{Cmd: []string{"sh", "-c", `hostname; cat /proc/1/comm; grep -E 'CapBnd|NoNewPrivs' /proc/self/status; exit 7`}}, Stdio{Out: &out, Err: &out})
	if err != nil {
		t.Fatal(err)
	}
	bnd := fmt.Sprintf("CapBnd:\t%016x", uint64(caps.DockerDefault&^caps.Of(caps.NetRaw)))
	if code != 7 || !strings.Contains(out.String(), "lab-t-a-exec\nsleep\n") || !strings.Contains(out.String(), bnd) || !strings.Contains(out.String(), "NoNewPrivs:\t1") {
		t.Fatalf("exec exit %d:\n%s", code, out.String())
	}
	out.Reset()
	code, err = c.Exec(context.Background(), ExecSpec{TTY: true, Cmd: []string{"tty"}}, Stdio{Out: &out, Err: &out})
	if err != nil || code != 0 || !strings.HasPrefix(out.String(), "/dev/pts/") {
		t.Fatalf("exec -t tty: exit %d, %v: %q", code, err, out.String())
	}
	procs, _ := c.Top()
	if len(procs) != 1 {
		t.Fatalf("after exec the container has %d processes", len(procs))
	}
}

func TestVolumesAndReadOnly(t *testing.T) {
	root := newRoot(t)
	data := filepath.Join(root, "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(data, "in"), []byte("from host\n"), 0o644)
	code, out, errOut := run(t, root, Spec{ReadOnly: true,
		Volumes: []Volume{{Source: data, Target: "/data"}, {Source: data, Target: "/ro", ReadOnly: true}},
		Cmd:     []string{"sh", "-c", `cat /data/in; echo out > /data/out; touch /ro/x 2>/dev/null && echo ro=rw || echo ro=ro; touch /x 2>/dev/null && echo root=rw || echo root=ro`}})
	if code != 0 || out != "from host\nro=ro\nroot=ro\n" {
		t.Fatalf("exit %d: %q %s", code, out, errOut)
	}
	if b, _ := os.ReadFile(filepath.Join(data, "out")); string(b) != "out\n" {
		t.Fatalf("the volume did not receive the file: %q", b)
	}
}

func TestUserAndWorkdir(t *testing.T) {
	root := newRoot(t)
	code, out, errOut := run(t, root, Spec{User: "1000:1001", Workdir: "/tmp/w", Cmd: []string{"sh", "-c", `id -u; id -g; pwd; grep -E '^Cap(Eff|Prm)' /proc/self/status`}})
	if code != 0 || out != "1000\n1001\n/tmp/w\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\n" {
		t.Fatalf("exit %d: %q %s", code, out, errOut)
	}
	code, _, errOut = run(t, root, Spec{Workdir: "/proc/self/fd/0", Cmd: []string{"true"}})
	if code != ExitEngine {
		t.Fatalf("a working directory through /proc/self/fd: exit %d (%s)", code, errOut)
	}
}

// -t: the command's terminal is a pseudo-terminal of the container's own
// devpts, and its controlling terminal.
func TestTTY(t *testing.T) {
	root := newRoot(t)
	code, out, errOut := run(t, root, Spec{TTY: true, Cmd: []string{"sh", "-c", `tty; test -t 0 && echo stdin-is-a-tty; cat /proc/self/stat | cut -d' ' -f7`}})
	if code != 0 || !strings.HasPrefix(out, "/dev/pts/0\r\nstdin-is-a-tty\r\n") || strings.HasSuffix(out, "\r\n0\r\n") {
		t.Fatalf("exit %d: %q %s", code, out, errOut)
	}
}

// run -d -t: the command gets a terminal, which the supervisor holds open
// (a shell waiting on it keeps running, as with docker) and copies into
// the log.
func TestDetachedTTY(t *testing.T) {
	root := newRoot(t)
	ctx := context.Background()
	c := start(t, root, Spec{TTY: true, Cmd: []string{"sh", "-c", `tty; test -t 1 && echo stdout-is-a-tty; read line; echo "read: $line"`}})
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if b, _ := os.ReadFile(c.LogPath()); strings.Contains(string(b), "stdout-is-a-tty") {
			break
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(c.LogPath())
			t.Fatalf("log after 5s: %q", b)
		}
	}
	// Nobody types into the terminal: read blocks, and the container runs.
	time.Sleep(100 * time.Millisecond)
	if err := c.Refresh(); err != nil || !c.IsRunning() {
		t.Fatalf("a shell reading its terminal ended: %+v, %v", c.State, err)
	}
	if err := c.Stop(ctx, time.Second); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	if err := c.Logs(ctx, &logs, false); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(logs.String(), "/dev/pts/0\r\nstdout-is-a-tty\r\n") || strings.Contains(logs.String(), "read:") {
		t.Fatalf("logs: %q", logs.String())
	}
	if err := c.Remove(ctx, false); err != nil {
		t.Fatal(err)
	}
}

// Concurrent creates never clash: of eight asking for one name, exactly one
// gets it, and every container gets its own ID.
func TestConcurrentCreate(t *testing.T) {
	root := newRoot(t)
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			c, err := Create(context.Background(), root, Spec{Image: "busybox", Name: "lab-t-a-race", Net: NetNone, Cmd: []string{"true"}})
			if err == nil {
				created[root] = append(created[root], c.ID) // only one goroutine gets here
			}
			errs <- err
		}()
	}
	won := 0
	for range 8 {
		if err := <-errs; err == nil {
			won++
		} else if !strings.Contains(err.Error(), "already in use") {
			t.Errorf("create: %v", err)
		}
	}
	if list, _ := ids(root); won != 1 || len(list) != 1 {
		t.Fatalf("%d creates won the name, %d state directories", won, len(list))
	}
}
