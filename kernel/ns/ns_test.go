package ns

import (
	"io/fs"
	"slices"
	"testing"
	"testing/fstest"
)

func TestParseKind(t *testing.T) {
	tests := []struct {
		in   string
		want Kind
		ok   bool
	}{
		{"mnt", Mount, true}, {"mount", Mount, true}, {"network", Net, true}, {"UTS", UTS, true},
		{"time", Time, true}, {"cgroup", Cgroup, true}, {"pid_for_children", "", false}, {"", "", false},
	}
	for _, tt := range tests {
		got, err := ParseKind(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseKind(%q) = %q, %v, want %q (ok %v)", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestFlags(t *testing.T) {
	// The values of <linux/sched.h>.
	if got := Flags(UTS, PID); got != 0x04000000|0x20000000 {
		t.Errorf("Flags(UTS, PID) = %#x", got)
	}
	if got := Mount.CloneFlag(); got != 0x20000 {
		t.Errorf("Mount.CloneFlag() = %#x, want CLONE_NEWNS 0x20000", got)
	}
	if got := Time.CloneFlag(); got != 0x80 {
		t.Errorf("Time.CloneFlag() = %#x, want CLONE_NEWTIME 0x80", got)
	}
	all := Flags(Kinds...)
	if got := KindsOf(all); !slices.Equal(got, Kinds) {
		t.Errorf("KindsOf(Flags(Kinds...)) = %v, want %v", got, Kinds)
	}
	if got := KindsOf(CloneNewUser | CloneNewNet); !slices.Equal(got, []Kind{Net, User}) {
		t.Errorf("KindsOf(user|net) = %v", got)
	}
}

func TestIDEqual(t *testing.T) {
	a := ID{Kind: UTS, Dev: 4, Inode: 10}
	if !a.Equal(ID{Kind: UTS, Inode: 10}) {
		t.Error("an ID without device should match on the inode")
	}
	if a.Equal(ID{Kind: UTS, Dev: 5, Inode: 10}) || a.Equal(ID{Kind: IPC, Dev: 4, Inode: 10}) {
		t.Error("different device or kind must differ")
	}
	if got := a.String(); got != "uts:[10]" {
		t.Errorf("String() = %q", got)
	}
}

func link(target string) *fstest.MapFile {
	return &fstest.MapFile{Mode: fs.ModeSymlink | 0o777, Data: []byte(target)}
}

// fakeProc is a /proc with three processes: 1 and 2 in the host's
// namespaces, 40 in its own UTS namespace.
func fakeProc() fstest.MapFS {
	m := fstest.MapFS{
		"etc/passwd": {Data: []byte("root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534::/:/usr/sbin/nologin\n")},
	}
	add := func(pid, uts, comm, cmdline, uid string) {
		p := "proc/" + pid + "/"
		m[p+"ns/uts"] = link("uts:[" + uts + "]")
		m[p+"ns/ipc"] = link("ipc:[4026531839]")
		m[p+"comm"] = &fstest.MapFile{Data: []byte(comm + "\n")}
		m[p+"cmdline"] = &fstest.MapFile{Data: []byte(cmdline)}
		m[p+"status"] = &fstest.MapFile{Data: []byte("Name:\t" + comm + "\nUid:\t" + uid + "\t" + uid + "\t" + uid + "\t" + uid + "\n")}
	}
	add("1", "4026531838", "systemd", "/sbin/init\x00splash\x00", "0")
	add("2", "4026531838", "kthreadd", "", "0")
	add("40", "4026532201", "sleep", "sleep\x00infinity\x00", "65534")
	return m
}

func TestOfAndSame(t *testing.T) {
	fsys := fakeProc()
	id, err := Of(fsys, 40, UTS)
	if err != nil || id.Inode != 4026532201 || id.Kind != UTS {
		t.Fatalf("Of(40, uts) = %v, %v", id, err)
	}
	if same, _ := Same(fsys, 1, 2, UTS); !same {
		t.Error("Same(1, 2, uts) = false, want true")
	}
	if same, _ := SameAsHost(fsys, 40, UTS); same {
		t.Error("SameAsHost(40, uts) = true, want false")
	}
	if same, _ := SameAsHost(fsys, 40, IPC); !same {
		t.Error("SameAsHost(40, ipc) = false, want true")
	}
	if _, err := Of(fsys, 40, IPC); err != nil {
		t.Fatal(err)
	}
	if _, err := Of(fsys, 40, Net); err == nil {
		t.Error("Of(40, net) on a process without that link: want an error")
	}
}

func TestHostPIDFallsBackToKthreadd(t *testing.T) {
	fsys := fakeProc()
	if got := HostPID(fsys); got != 1 {
		t.Errorf("HostPID = %d, want 1", got)
	}
	delete(fsys, "proc/1/ns/uts") // PID 1 unreadable, as in a sandbox
	if got := HostPID(fsys); got != 2 {
		t.Errorf("HostPID without PID 1's links = %d, want 2 (kthreadd)", got)
	}
}

func TestList(t *testing.T) {
	got, err := List(fakeProc(), UTS)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("List(uts) = %d namespaces, want 2: %+v", len(got), got)
	}
	host, own := got[0], got[1]
	if host.Inode != 4026531838 || host.NProcs != 2 || host.PID != 1 || host.User != "root" || host.Command != "/sbin/init splash" {
		t.Errorf("host namespace = %+v", host)
	}
	if own.Inode != 4026532201 || own.NProcs != 1 || own.PID != 40 || own.User != "nobody" || own.Command != "sleep infinity" {
		t.Errorf("own namespace = %+v", own)
	}
	all, _ := List(fakeProc())
	if len(all) != 3 {
		t.Errorf("List() = %d namespaces, want 3 (2 uts, 1 ipc)", len(all))
	}
}

func TestHoldOptionsArgs(t *testing.T) {
	o := HoldOptions{Hostname: "lab-uts", MountProc: true, MsgQueue: 0x1ab, Nest: 2, Tmpfs: "/mnt", InNewMount: true}
	want := []string{"-hostname", "lab-uts", "-mount-proc", "-msgq", "427", "-nest", "2", "-tmpfs", "/mnt", "-in-new-mount"}
	if got := o.Args(); !slices.Equal(got, want) {
		t.Errorf("Args() = %q, want %q", got, want)
	}
}
