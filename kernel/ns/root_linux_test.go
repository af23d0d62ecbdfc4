package ns

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/lab-edu/lab/kernel/kerneltest"
	"github.com/lab-edu/lab/kernel/procfs"
)

// startHolder starts a detached holder and kills it when the test ends.
func startHolder(t *testing.T, spec Spec, opts HoldOptions) int {
	t.Helper()
	pid, err := StartDetached(HoldCommand(spec, opts))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = KillPIDs(pid) })
	return pid
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 3s", what)
		}
	}
}

func TestHolderUTS(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root)
	before, _ := os.Hostname()
	pid := startHolder(t, Spec{New: []Kind{UTS}}, HoldOptions{Hostname: "lab-ns-test", Domainname: "lab-ns-dom"})
	var n Names
	eventually(t, "holder named its namespace", func() bool {
		var err error
		n, err = UTSNames(pid)
		return err == nil && n.Hostname == "lab-ns-test"
	})
	if n.Domainname != "lab-ns-dom" {
		t.Errorf("domain name = %q, want lab-ns-dom", n.Domainname)
	}
	if after, _ := os.Hostname(); after != before {
		t.Fatalf("the host's hostname changed from %q to %q", before, after)
	}
	fsys := os.DirFS("/")
	if same, err := SameAsHost(fsys, pid, UTS); err != nil || same {
		t.Errorf("SameAsHost(holder, uts) = %v, %v, want false", same, err)
	}
	if same, err := SameAsHost(fsys, pid, Net); err != nil || !same {
		t.Errorf("SameAsHost(holder, net) = %v, %v, want true", same, err)
	}
	id, _ := Of(fsys, pid, UTS)
	if id.Dev == 0 {
		t.Error("Of on the live host should stat the nsfs device")
	}
	if err := Kill(id); err != nil {
		t.Fatal(err)
	}
	eventually(t, "namespace gone", func() bool { p, _ := Processes(fsys, id); return len(p) == 0 })
}

func TestSetHostnameRefusesTheHost(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root)
	if err := SetHostname("lab-must-not-happen"); err != ErrHostNamespace {
		t.Fatalf("SetHostname in the host's UTS namespace = %v, want ErrHostNamespace", err)
	}
}

func TestDoRefusesMountAndUser(t *testing.T) {
	for _, k := range []Kind{Mount, User, PID} {
		if err := Do(os.Getpid(), []Kind{k}, func() error { return nil }); err == nil {
			t.Errorf("Do(%s) = nil, want a refusal", k)
		}
	}
}

func TestMsgQueueInOwnIPCNamespace(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root)
	const key int32 = 0x1ab7e57
	pid := startHolder(t, Spec{New: []Kind{IPC}}, HoldOptions{MsgQueue: key})
	has := func(qs []procfs.SysvIPC) bool {
		return slices.ContainsFunc(qs, func(q procfs.SysvIPC) bool { return q.Key == key })
	}
	eventually(t, "queue in the holder's namespace", func() bool { q, err := MsgQueues(pid); return err == nil && has(q) })
	host, err := MsgQueues(HostPID(os.DirFS("/")))
	if err != nil {
		t.Fatal(err)
	}
	if has(host) {
		t.Error("the holder's queue is visible in the host's IPC namespace")
	}
	if err := CreateShmIn(pid, key, 4096); err != nil {
		t.Fatal(err)
	}
	segs, err := ShmSegments(pid)
	if err != nil || !has(segs) {
		t.Fatalf("ShmSegments(holder) = %v, %v: want the segment made with CreateShmIn", segs, err)
	}
	if hostSegs, _ := ShmSegments(HostPID(os.DirFS("/"))); has(hostSegs) {
		t.Error("the segment made in the holder's namespace is visible in the host's")
	}
	if err := RemoveShmIn(pid, key); err != nil {
		t.Fatal(err)
	}
	if segs, _ := ShmSegments(pid); has(segs) {
		t.Error("RemoveShmIn left the segment")
	}
}

func TestPIDHolderOwnProcAndNesting(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root)
	fsys := os.DirFS("/")
	pid := startHolder(t, Spec{New: []Kind{PID, Mount}}, HoldOptions{MountProc: true, Nest: 1})
	eventually(t, "holder is PID 1 with its own /proc", func() bool {
		id, err := Of(fsys, pid, PID)
		if err != nil {
			return false
		}
		one, err := ofPath(fsys, "proc/"+itoa(pid)+"/root/proc/1/ns/pid", PID)
		return err == nil && one.Equal(id)
	})
	eventually(t, "a process three levels deep", func() bool {
		pids, _ := procfs.Pids(fsys)
		for _, p := range pids {
			if st, err := procfs.ReadStatus(fsys, p); err == nil && len(st.NSpid) == 3 && st.PPid == pid {
				return true
			}
		}
		return false
	})
}

func TestObserveInitDeath(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root)
	d, err := ObserveInitDeath(3 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !d.OtherKilled || !d.ForkENOMEM {
		t.Errorf("ObserveInitDeath = %+v, want PID 2 killed and fork ENOMEM", d)
	}
}

func TestProbeUserAndOwner(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root, kerneltest.Tool("nsenter"))
	one := []IDMap{{Inside: 0, Outside: 65534, Count: 1}}
	pid := startHolder(t, Spec{New: []Kind{User}, UIDMap: one, GIDMap: one, AsRootInside: true}, HoldOptions{})
	eventually(t, "holder mapped", func() bool {
		st, err := procfs.ReadStatus(os.DirFS("/"), pid)
		return err == nil && st.Uid[0] == 65534
	})
	before, _ := os.Hostname()
	p, err := ProbeUser(context.Background(), pid)
	if err != nil {
		t.Fatal(err)
	}
	if p.UID != 0 || !p.CapSysAdmin || p.MountErr != "" || !p.HostnameEPERM {
		t.Errorf("ProbeUser = %+v, want uid 0, CAP_SYS_ADMIN, a working mount, EPERM on the host's hostname", p)
	}
	if after, _ := os.Hostname(); after != before {
		t.Fatalf("hostname changed: %q -> %q", before, after)
	}
	owner, err := Owner(pid, UTS)
	if err != nil {
		t.Fatal(err)
	}
	host, _ := Host(os.DirFS("/"), User)
	if !owner.Equal(host) {
		t.Errorf("Owner(holder, uts) = %v, want the host's user namespace %v (the holder did not make a UTS namespace)", owner, host)
	}
}
