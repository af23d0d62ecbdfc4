package cgroup

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lab-edu/lab/kernel/kerneltest"
	"github.com/lab-edu/lab/kernel/reexec"
)

func TestMain(m *testing.M) {
	if reexec.Init() {
		return
	}
	os.Exit(m.Run())
}

// Test children: they join the group of os.Args[1] first, as the lab's
// probes do.
func init() {
	reexec.Register("cgroup-test-alloc", func() {
		h, _ := Detect()
		size, _ := strconv.ParseInt(os.Args[2], 10, 64)
		if err := h.Join(os.Args[1], Memory); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if _, err := AllocMemory(size, nil); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	})
	reexec.Register("cgroup-test-fork", func() {
		h, _ := Detect()
		max, _ := strconv.Atoi(os.Args[2])
		if err := h.Join(os.Args[1], Pids); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		res, err := ForkBomb(max)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		_ = json.NewEncoder(os.Stdout).Encode(res)
		os.Exit(0)
	})
}

// testGroup returns a fresh lab-test-* name and removes the group (and
// kills what is in it) when the test ends.
func testGroup(t *testing.T, h Hierarchy) string {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	g := "lab-test-" + hex.EncodeToString(b)
	t.Cleanup(func() {
		for _, c := range h.controllers() {
			_ = h.KillAll(g, c, nil)
		}
		if err := h.Delete(g); err != nil {
			t.Errorf("delete %s: %v", g, err)
		}
	})
	return g
}

// sleeper starts `sleep 30` and makes sure it ends with the test.
func sleeper(t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
}

func hostHierarchy(t *testing.T) Hierarchy {
	t.Helper()
	kerneltest.Requires(t, kerneltest.Root, kerneltest.Tool("sleep"))
	h, err := Detect()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// TestGroupLifecycle runs the whole API on the host's hierarchy (v1 here,
// v2 on the lab VM): create with limits, read them back with the version's
// file names, update, add a process, freeze, thaw, evacuate, kill, delete.
func TestGroupLifecycle(t *testing.T) {
	h := hostHierarchy(t)
	host := os.DirFS("/")
	g := testGroup(t, h)
	r := Resources{
		MemoryMax: Ptr[int64](32 << 20),
		CPUQuota:  Ptr[int64](50000), CPUPeriod: Ptr[uint64](100000),
		CPUWeight: Ptr[uint64](200),
		PidsMax:   Ptr[int64](30),
		CPUs:      "0",
	}
	controllers := []string{Freezer, CPUAcct}
	if h.Version == V2 {
		controllers = nil
	}
	if err := h.Create(g, r, controllers...); err != nil {
		t.Fatal(err)
	}
	if l, err := h.ReadMemoryLimit(host, g); err != nil || l != (Limit{Value: 32 << 20}) {
		t.Errorf("%s = %v, %v; want 32 MiB", h.Name(MemoryLimit), l, err)
	}
	if c, err := h.ReadCPUMax(host, g); err != nil || c != (CPUMax{50000, 100000}) {
		t.Errorf("ReadCPUMax = %v, %v", c, err)
	}
	wantWeight := uint64(200)
	if h.Version == V1 {
		wantWeight = WeightToShares(200)
	}
	if w, err := h.ReadCPUWeight(host, g); err != nil || w != wantWeight {
		t.Errorf("%s = %d, %v; want %d", h.Name(CPUWeight), w, err, wantWeight)
	}
	if l, err := h.ReadPidsMax(host, g); err != nil || l != (Limit{Value: 30}) {
		t.Errorf("pids.max = %v, %v", l, err)
	}
	if c, err := h.ReadCPUs(host, g); err != nil || c != "0" {
		t.Errorf("cpuset.cpus = %q, %v; want 0", c, err)
	}
	update := Resources{MemoryMax: Ptr[int64](48 << 20)}
	if exists(h.Path(SwapLimit, g)) {
		update.SwapMax = Ptr[int64](0)
	}
	if err := h.Update(g, update); err != nil {
		t.Fatal(err)
	}
	if l, err := h.ReadMemoryLimit(host, g); err != nil || l != (Limit{Value: 48 << 20}) {
		t.Errorf("after Update: %v, %v; want 48 MiB", l, err)
	}
	if update.SwapMax != nil {
		want := Limit{Value: 48 << 20} // v1 memsw: memory + 0 swap
		if h.Version == V2 {
			want = Limit{Value: 0}
		}
		if l, err := h.ReadSwapLimit(host, g); err != nil || l != want {
			t.Errorf("%s = %v, %v; want %v", h.Name(SwapLimit), l, err, want)
		}
	}

	cmd := sleeper(t)
	pid := cmd.Process.Pid
	if err := h.Add(g, pid); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{Memory, CPU, Pids, Freezer} {
		if pids, err := h.ReadProcs(host, c, g); err != nil || !slices.Contains(pids, pid) {
			t.Errorf("%s: %v, %v; want %d in it", h.Path(Procs(c), g), pids, err, pid)
		}
	}
	if err := h.Freeze(g); err != nil {
		t.Fatal(err)
	}
	if s, err := h.ReadFreezeState(host, g); err != nil || s != Frozen {
		t.Errorf("after Freeze: %q, %v", s, err)
	}
	if err := h.Thaw(g); err != nil {
		t.Fatal(err)
	}
	if s, err := h.ReadFreezeState(host, g); err != nil || s != Thawed {
		t.Errorf("after Thaw: %q, %v", s, err)
	}
	if err := h.Evacuate(g, func(int) bool { return true }); err != nil {
		t.Fatal(err)
	}
	if pids := h.allProcs(Memory, g); len(pids) != 0 {
		t.Errorf("after Evacuate: %v still in the group", pids)
	}
	if err := syscall.Kill(pid, 0); err != nil {
		t.Errorf("Evacuate must not kill: %v", err)
	}
	if err := h.Add(g, pid); err != nil {
		t.Fatal(err)
	}
	if err := h.KillAll(g, Memory, nil); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err == nil {
		t.Error("KillAll: sleep exited normally")
	}
	if err := h.Delete(g); err != nil {
		t.Fatal(err)
	}
	if h.Exists(host, Memory, g) || h.Exists(host, Freezer, g) {
		t.Error("Delete left the group")
	}
	if err := h.Delete(g); err != nil {
		t.Errorf("second Delete = %v, want nil (idempotent)", err)
	}
}

// TestDeleteRefusesBusyGroup: rmdir of a group with a process is EBUSY,
// and the error names the directory.
func TestDeleteRefusesBusyGroup(t *testing.T) {
	h := hostHierarchy(t)
	g := testGroup(t, h)
	if err := h.Create(g, Resources{}, Memory); err != nil {
		t.Fatal(err)
	}
	if err := h.Add(g, sleeper(t).Process.Pid, Memory); err != nil {
		t.Fatal(err)
	}
	err := h.Delete(g)
	if !errors.Is(err, syscall.EBUSY) || !strings.Contains(err.Error(), g) {
		t.Errorf("Delete(busy) = %v, want EBUSY naming %s", err, g)
	}
}

// TestOOMKill: a process touching more than its group's limit is killed
// by the kernel, and the group's oom_kill counter says so.
func TestOOMKill(t *testing.T) {
	h := hostHierarchy(t)
	host := os.DirFS("/")
	g := testGroup(t, h)
	r := Resources{MemoryMax: Ptr[int64](16 << 20)}
	if err := h.Create(g, r); err != nil {
		t.Fatal(err)
	}
	if exists(h.Path(SwapLimit, g)) {
		if err := h.Update(g, Resources{MemoryMax: r.MemoryMax, SwapMax: Ptr[int64](0)}); err != nil {
			t.Fatal(err)
		}
	}
	cmd := reexec.Command("cgroup-test-alloc", g, strconv.Itoa(64<<20))
	cmd.Stderr = os.Stderr
	err := cmd.Run()
	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child touching 64 MiB in a 16 MiB group: %v, want killed by SIGKILL", err)
	}
	if n, err := h.ReadOOMKills(host, g); err != nil || n < 1 {
		t.Errorf("%s oom_kill = %d, %v; want >= 1", h.Name(OOMEvents), n, err)
	}
}

// TestForkBomb: forks fail with EAGAIN at pids.max, the refusal is
// counted, and the bomb leaves nothing behind.
func TestForkBomb(t *testing.T) {
	h := hostHierarchy(t)
	host := os.DirFS("/")
	g := testGroup(t, h)
	if err := h.Create(g, Resources{PidsMax: Ptr[int64](24)}); err != nil {
		t.Fatal(err)
	}
	out, err := reexec.Command("cgroup-test-fork", g, "100").Output()
	if err != nil {
		t.Fatalf("fork bomb child: %v", err)
	}
	var res ForkResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	// Threads the Go runtime starts after the count make the sum smaller.
	if n := res.Tasks + res.Forked; !res.Refused || res.Errno != "EAGAIN" || n > 24 || n < 20 {
		t.Errorf("ForkBomb in a 24-task group = %+v, want refused with EAGAIN at tasks+forked = 24", res)
	}
	if n, err := h.ReadPidsRefused(host, g); err != nil || n < 1 {
		t.Errorf("pids.events max = %d, %v; want >= 1", n, err)
	}
	if n, err := h.ReadPidsCurrent(host, g); err != nil || n != 0 {
		t.Errorf("pids.current after the bomb = %d, %v; want 0: nothing left running", n, err)
	}
}

// cgroup2Root finds a real cgroup2 mount: /sys/fs/cgroup on a v2 host,
// /sys/fs/cgroup/unified on a hybrid one.
func cgroup2Root(t *testing.T) string {
	t.Helper()
	kerneltest.Requires(t, kerneltest.Root, kerneltest.Tool("sleep"))
	for _, dir := range []string{DefaultRoot, DefaultRoot + "/unified"} {
		if IsCgroup2(dir) {
			return dir
		}
	}
	// Both machines lab supports mount a cgroup2 (the unified tree, or
	// the hybrid's /sys/fs/cgroup/unified): under make test its absence
	// fails rather than skips.
	kerneltest.Requires(t, func() (bool, string) {
		return false, "needs a cgroup2 mount at /sys/fs/cgroup or /sys/fs/cgroup/unified"
	})
	return ""
}

// TestV2Core runs the v2 code paths that need no controller (freezing is
// core to v2, and so are cgroup.procs and cpu.stat's usage) on a real
// cgroup2 hierarchy; on this hybrid machine that is the empty cgroup2 at
// /sys/fs/cgroup/unified.
func TestV2Core(t *testing.T) {
	root := cgroup2Root(t)
	h := Hierarchy{Version: V2, Root: root}
	host := os.DirFS("/")
	g := testGroup(t, h)
	if err := h.Create(g, Resources{}); err != nil {
		t.Fatal(err)
	}
	cmd := sleeper(t)
	if err := h.Add(g, cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	if pids, err := h.ReadProcs(host, "", g); err != nil || !slices.Equal(pids, []int{cmd.Process.Pid}) {
		t.Errorf("cgroup.procs = %v, %v", pids, err)
	}
	if err := h.Freeze(g); err != nil {
		t.Fatal(err)
	}
	ev, _ := fs.ReadFile(host, strings.TrimPrefix(h.Dir("", g), "/")+"/cgroup.events")
	if s, err := h.ReadFreezeState(host, g); err != nil || s != Frozen || !strings.Contains(string(ev), "frozen 1") {
		t.Errorf("after Freeze: %q, %v; cgroup.events %q", s, err, ev)
	}
	if err := h.Thaw(g); err != nil {
		t.Fatal(err)
	}
	if s, err := h.ReadFreezeState(host, g); err != nil || s != Thawed {
		t.Errorf("after Thaw: %q, %v", s, err)
	}
	if _, err := h.ReadCPUUsage(host, g); err != nil {
		t.Errorf("ReadCPUUsage (usage_usec of cpu.stat): %v", err)
	}
	if err := h.KillAll(g, "", nil); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if err := h.Delete(g); err != nil {
		t.Fatal(err)
	}
	if h.Exists(host, "", g) {
		t.Error("Delete left the group")
	}
}

// TestV2Controllers sets memory, cpu and pids limits on a real cgroup2,
// when its root offers those controllers (a v2 host). On a hybrid host the
// controllers live in v1 and this skips; the v2 files of these
// controllers are then covered by testdata/v2 only.
func TestV2Controllers(t *testing.T) {
	root := cgroup2Root(t)
	b, _ := os.ReadFile(root + "/cgroup.controllers")
	have := strings.Fields(string(b))
	for _, c := range []string{Memory, CPU, Pids} {
		if !slices.Contains(have, c) {
			t.Skipf("the cgroup2 at %s has no %s controller (cgroup.controllers: %q): hybrid host, its controllers are in v1", root, c, strings.TrimSpace(string(b)))
		}
	}
	h := Hierarchy{Version: V2, Root: root}
	host := os.DirFS("/")
	g := testGroup(t, h)
	r := Resources{MemoryMax: Ptr[int64](32 << 20), SwapMax: Ptr[int64](0), CPUQuota: Ptr[int64](20000), CPUPeriod: Ptr[uint64](100000), PidsMax: Ptr[int64](20)}
	if err := h.Create(g, r); err != nil {
		t.Fatal(err)
	}
	if l, err := h.ReadMemoryLimit(host, g); err != nil || l.Value != 32<<20 {
		t.Errorf("memory.max = %v, %v", l, err)
	}
	if c, err := h.ReadCPUMax(host, g); err != nil || c != (CPUMax{20000, 100000}) {
		t.Errorf("cpu.max = %v, %v", c, err)
	}
	if l, err := h.ReadPidsMax(host, g); err != nil || l.Value != 20 {
		t.Errorf("pids.max = %v, %v", l, err)
	}
	if _, err := h.ReadOOMKills(host, g); err != nil {
		t.Errorf("memory.events: %v", err)
	}
}

func TestDetect(t *testing.T) {
	h, err := Detect()
	if err != nil {
		t.Fatal(err)
	}
	if want := V1; IsCgroup2(DefaultRoot) {
		if h.Version != V2 {
			t.Errorf("Detect = %s on a cgroup2 /sys/fs/cgroup", h.Version)
		}
	} else if h.Version != want {
		t.Errorf("Detect = %s, want %s", h.Version, want)
	}
}

func TestLoadBounds(t *testing.T) {
	if _, err := AllocMemory(MaxAlloc+1, nil); err == nil {
		t.Error("AllocMemory over MaxAlloc: nil error")
	}
	if _, err := BurnCPU(MaxBurn + time.Second); err == nil {
		t.Error("BurnCPU over MaxBurn: nil error")
	}
	if _, err := ForkBomb(MaxForks + 1); err == nil {
		t.Error("ForkBomb over MaxForks: nil error")
	}
	mem, err := AllocMemory(4<<20, nil)
	if err != nil || len(mem) != 4<<20 || mem[4096] != 1 {
		t.Errorf("AllocMemory(4 MiB) = %d bytes, %v", len(mem), err)
	}
	used, err := BurnCPU(30 * time.Millisecond)
	if err != nil || used <= 0 || used > 100*time.Millisecond {
		t.Errorf("BurnCPU(30ms) = %s, %v", used, err)
	}
}
