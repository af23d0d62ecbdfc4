package netns

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/lab-edu/lab/kernel/kerneltest"
)

// testName returns a fresh lab-test-XXXX name and deletes that namespace
// when the test ends.
func testName(t *testing.T) string {
	t.Helper()
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	name := "lab-test-" + hex.EncodeToString(b)
	t.Cleanup(func() {
		_ = KillAll(name)
		if err := DeleteNamed(name); err != nil {
			t.Error(err)
		}
	})
	return name
}

func TestCreateNamedIsSeenByIP(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root, kerneltest.Tool("ip"))
	name := testName(t)
	if err := CreateNamed(name); err != nil {
		t.Fatal(err)
	}
	if ok, err := IsNetns(Path(name)); err != nil || !ok {
		t.Fatalf("IsNetns(%s) = %v, %v, want true", Path(name), ok, err)
	}
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), name) {
		t.Errorf("ip netns list = %q, want it to list %s", out, name)
	}
	// ip sees the very same namespace: a link added with `ip -n` shows in a
	// handle lab opens.
	if err := exec.Command("ip", "-n", name, "link", "add", "lab-t0", "type", "veth", "peer", "name", "lab-t1").Run(); err != nil {
		t.Fatal(err)
	}
	h, err := Handle(name)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if _, err := h.LinkByName("lab-t0"); err != nil {
		t.Errorf("link lab-t0 added by ip not seen through Handle(%s): %v", name, err)
	}
	if err := CreateNamed(name); err == nil {
		t.Errorf("second CreateNamed(%s) = nil, want an error (exists)", name)
	}
	names, err := List()
	if err != nil || !slices.Contains(names, name) {
		t.Errorf("List() = %v, %v, want it to contain %s", names, err, name)
	}
}

func TestDeleteNamedIsIdempotent(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root)
	name := testName(t)
	if err := CreateNamed(name); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := DeleteNamed(name); err != nil {
			t.Fatalf("DeleteNamed #%d: %v", i+1, err)
		}
	}
	if _, err := os.Stat(Path(name)); !os.IsNotExist(err) { //nolint:forbidigo // test
		t.Errorf("%s still there after DeleteNamed: %v", Path(name), err)
	}
}

func TestIsNetnsRejectsPlainFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "red")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if ok, err := IsNetns(path); err != nil || ok {
		t.Errorf("IsNetns(plain file) = %v, %v, want false, nil", ok, err)
	}
	if ok, err := IsNetns("/proc/self/ns/net"); err != nil || !ok {
		t.Errorf("IsNetns(/proc/self/ns/net) = %v, %v, want true, nil", ok, err)
	}
	if ok, err := IsNetns("/proc/self/ns/uts"); err != nil || ok {
		t.Errorf("IsNetns(/proc/self/ns/uts) = %v, %v, want false (nsfs, but uts)", ok, err)
	}
}

func TestDoRunsInsideAndLeavesCallerAlone(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root)
	name := testName(t)
	if err := CreateNamed(name); err != nil {
		t.Fatal(err)
	}
	want, err := Inode(Path(name))
	if err != nil {
		t.Fatal(err)
	}
	host, _ := Inode("/proc/thread-self/ns/net")
	var inside uint64
	err = Do(name, func() error {
		var err error
		inside, err = Inode("/proc/thread-self/ns/net")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if inside != want {
		t.Errorf("inside Do: netns inode %d, want %d", inside, want)
	}
	if now, _ := Inode("/proc/thread-self/ns/net"); now != host {
		t.Errorf("after Do: this thread's netns inode %d, want the host's %d", now, host)
	}
}

func TestStartPidsKillAll(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root)
	name := testName(t)
	if err := CreateNamed(name); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/bin/sleep", "30")
	if err := Start(name, cmd); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	pids, err := Pids(name)
	if err != nil || !slices.Contains(pids, cmd.Process.Pid) {
		t.Fatalf("Pids(%s) = %v, %v, want it to contain %d", name, pids, err, cmd.Process.Pid)
	}
	if self, _ := Pids(name); slices.Contains(self, os.Getpid()) {
		t.Errorf("the test process itself is in %s", name)
	}
	if err := KillAll(name); err != nil {
		t.Fatal(err)
	}
	<-done
}

func TestNewAnonymous(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root)
	f, err := NewAnonymous()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// Stat the descriptor, not the path it was opened by: that path
	// (/proc/thread-self/...) names whatever thread looks at it.
	fd := "/proc/self/fd/" + strconv.Itoa(int(f.Fd()))
	a, _ := Inode(fd)
	host, _ := Inode("/proc/self/ns/net")
	if ok, _ := IsNetns(fd); !ok || a == host {
		t.Errorf("NewAnonymous: %s is netns %v, inode %d (host %d): want a new namespace", fd, ok, a, host)
	}
}

// TestDoNeverMovesTheMainThread runs Do many times and checks that the
// process's main thread, which Go cannot discard, stays in the host's
// namespace (/proc/self/ns/net is the main thread's).
func TestDoNeverMovesTheMainThread(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root)
	name := testName(t)
	if err := CreateNamed(name); err != nil {
		t.Fatal(err)
	}
	host, err := Inode("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	// Many at once, so the scheduler also hands work to the main thread.
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for range 20 {
				if err := Do(name, func() error { return nil }); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if now, _ := Inode("/proc/self/ns/net"); now != host {
		t.Fatalf("the main thread moved to netns inode %d (host %d)", now, host)
	}
}
