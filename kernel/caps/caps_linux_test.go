package caps

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lab-edu/lab/kernel/kerneltest"
	"github.com/lab-edu/lab/kernel/procfs"
)

func lastCap(t *testing.T) Cap {
	t.Helper()
	last, err := LastCap(os.DirFS("/"))
	if err != nil {
		t.Fatal(err)
	}
	return last
}

// self returns the test process's credentials, the most a child can get.
func self(t *testing.T) Creds {
	t.Helper()
	c, err := ReadCreds(os.DirFS("/"), os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// hold starts a child holding c and returns its pid; the child ends when
// the test does.
func hold(t *testing.T, c Creds) int {
	t.Helper()
	cmd := Command(c)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); _ = cmd.Wait() })
	// The child applies c, then blocks reading stdin: wait until its
	// status shows all of the change (or it died). The sets, the IDs and
	// no_new_privs change one system call after the other: a status read
	// between two shows half of it.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		got, err := ReadCreds(os.DirFS("/"), cmd.Process.Pid)
		if err != nil || got.Sets == c.Sets && got.UID == c.UID && got.GID == c.GID && got.NoNewPrivs == c.NoNewPrivs {
			return cmd.Process.Pid
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("child did not apply %+v: %s", c, stderr.String())
	return 0
}

func TestApplyShowsInStatus(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root)
	me := self(t)
	noRaw := me
	noRaw.Bounding = me.Bounding.Without(NetRaw)
	noRaw.Effective = me.Effective.Without(NetRaw)
	noRaw.Permitted = me.Permitted.Without(NetRaw)
	effOnly := me
	effOnly.Effective = me.Effective.Without(NetRaw)
	nobody := Creds{
		Sets:       Sets{Permitted: Of(NetBindService), Effective: Of(NetBindService), Inheritable: Of(NetBindService), Ambient: Of(NetBindService), Bounding: me.Bounding},
		UID:        [3]int{65534, 65534, 65534},
		GID:        [3]int{65534, 65534, 65534},
		NoNewPrivs: true,
	}
	// What capsh --inh=cap_net_raw --drop=cap_net_raw leaves: inheritable
	// holds what bounding lacks (Apply must set inheritable first).
	inhBeyond := noRaw
	inhBeyond.Inheritable = Of(NetRaw)
	for name, want := range map[string]Creds{
		"no net_raw": noRaw, "effective only": effOnly, "nobody with ambient": nobody, "no capabilities": {},
		"inheritable beyond bounding": inhBeyond,
	} {
		t.Run(name, func(t *testing.T) {
			pid := hold(t, want)
			got, err := ReadCreds(os.DirFS("/"), pid)
			if err != nil {
				t.Fatal(err)
			}
			if got.Sets != want.Sets || got.UID != want.UID || got.GID != want.GID || got.NoNewPrivs != want.NoNewPrivs {
				t.Errorf("child %d has %+v, want %+v", pid, got, want)
			}
		})
	}
}

// TestExecRegainsEffective shows why a capability dropped from the
// effective set only is not gone: root's next execve computes permitted =
// inheritable | bounding, and effective = permitted.
func TestExecRegainsEffective(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root)
	me := self(t)
	effOnly := me
	effOnly.Effective = me.Effective.Without(NetRaw)
	bndToo := effOnly
	bndToo.Bounding = me.Bounding.Without(NetRaw)
	bndToo.Permitted = me.Permitted.Without(NetRaw)
	for name, tt := range map[string]struct {
		c       Creds
		wantRaw bool
	}{"effective only": {effOnly, true}, "bounding and permitted": {bndToo, false}} {
		out, err := Command(tt.c, "/bin/cat", "/proc/self/status").Output()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		st, _ := procfs.ParseStatus(bytes.NewReader(out))
		if got := Set(st.CapEff).Has(NetRaw); got != tt.wantRaw {
			t.Errorf("%s: after exec net_raw effective = %t, want %t", name, got, tt.wantRaw)
		}
	}
}

func TestTryRawSocket(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root)
	me := self(t)
	denied, err := TryRawSocket(t.Context(), me)
	if err != nil || denied != nil {
		t.Fatalf("as root: denied %v, err %v; want the socket", denied, err)
	}
	noRaw := me
	noRaw.Effective, noRaw.Permitted, noRaw.Bounding = me.Effective.Without(NetRaw), me.Permitted.Without(NetRaw), me.Bounding.Without(NetRaw)
	denied, err = TryRawSocket(t.Context(), noRaw)
	if err != nil || !errors.Is(denied, unix.EPERM) {
		t.Fatalf("without net_raw: denied %v, err %v; want EPERM", denied, err)
	}
}

func TestTryChown(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root)
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(file, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	denied, err := TryChown(t.Context(), Creds{}, file, 0, 0) // root, no capabilities
	if err != nil || !errors.Is(denied, unix.EPERM) {
		t.Fatalf("root without capabilities: denied %v, err %v; want EPERM", denied, err)
	}
	denied, err = TryChown(t.Context(), self(t), file, 0, 0)
	if err != nil || denied != nil {
		t.Fatalf("root: denied %v, err %v; want success", denied, err)
	}
}

func TestFileCapsXattr(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root, kerneltest.Tool("setcap"), kerneltest.Tool("getcap"))
	file := filepath.Join(t.TempDir(), "bin")
	if err := os.WriteFile(file, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if f, ok, err := ReadFileCaps(file); err != nil || ok {
		t.Fatalf("fresh file: %+v, %t, %v; want none", f, ok, err)
	}
	// Ours written, getcap reads it.
	want, _ := ParseFileCapsText("cap_net_bind_service,cap_net_raw+ep")
	if err := WriteFileCaps(file, want); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("getcap", file).Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(strings.TrimPrefix(string(out), file)); got != want.String() {
		t.Errorf("getcap = %q, we wrote %q", got, want.String())
	}
	// setcap written, we read it.
	for _, text := range []string{"cap_net_bind_service+ep", "cap_net_bind_service+p", "cap_chown,cap_bpf+eip", "cap_checkpoint_restore+i"} {
		if out, err := exec.Command("setcap", text, file).CombinedOutput(); err != nil {
			t.Fatalf("setcap %s: %v %s", text, err, out)
		}
		got, ok, err := ReadFileCaps(file)
		want, _ := ParseFileCapsText(text)
		want.Revision = Revision2
		if err != nil || !ok || got != want {
			t.Errorf("after setcap %s: %+v, %t, %v; want %+v", text, got, ok, err, want)
		}
	}
	for range 2 { // idempotent
		if err := RemoveFileCaps(file); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok, _ := ReadFileCaps(file); ok {
		t.Error("capabilities still there after RemoveFileCaps")
	}
	if err := RemoveFileCaps(filepath.Join(t.TempDir(), "missing")); err != nil {
		t.Errorf("RemoveFileCaps(missing) = %v, want nil", err)
	}
}

func nobody(t *testing.T) Creds {
	me := self(t)
	return Creds{Sets: Sets{Bounding: me.Bounding}, UID: [3]int{65534, 65534, 65534}, GID: [3]int{65534, 65534, 65534}}
}

// busyboxCopy copies /bin/busybox where uid 65534 can run it.
func busyboxCopy(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	_ = os.Chmod(dir, 0o755)
	_ = os.Chmod(filepath.Dir(dir), 0o755)
	in, err := os.Open("/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	path := filepath.Join(dir, "busybox")
	out, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	out.Close()
	return path
}

func TestTryBind(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root, kerneltest.Tool("busybox"))
	bin := busyboxCopy(t)
	argv := []string{bin, "nc", "-l", "-p", "80"}
	r, err := TryBind(t.Context(), nobody(t), 80, 3*time.Second, argv...)
	if err != nil || r.Bound || !strings.Contains(r.Output, "ermission denied") {
		t.Fatalf("no file caps: %+v, %v; want bind refused", r, err)
	}
	if err := WriteFileCaps(bin, FileCaps{Permitted: Of(NetBindService)}); err != nil {
		t.Fatal(err)
	}
	if r, err := TryBind(t.Context(), nobody(t), 80, 3*time.Second, argv...); err != nil || r.Bound {
		t.Fatalf("+p without +e: %+v, %v; want bind refused", r, err)
	}
	if err := WriteFileCaps(bin, FileCaps{Permitted: Of(NetBindService), Effective: true}); err != nil {
		t.Fatal(err)
	}
	if r, err := TryBind(t.Context(), nobody(t), 80, 3*time.Second, argv...); err != nil || !r.Bound {
		t.Fatalf("+ep: %+v, %v; want bound", r, err)
	}
	nnp := nobody(t)
	nnp.NoNewPrivs = true
	if r, err := TryBind(t.Context(), nnp, 80, 3*time.Second, argv...); err != nil || r.Bound {
		t.Fatalf("+ep under no_new_privs: %+v, %v; want bind refused", r, err)
	}
}

func BenchmarkTryRawSocket(b *testing.B) {
	c, err := ReadCreds(os.DirFS("/"), os.Getpid())
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := TryRawSocket(b.Context(), c); err != nil {
			b.Fatal(err)
		}
	}
}
