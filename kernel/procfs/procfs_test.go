package procfs

import (
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

func open(t *testing.T, name string) *os.File {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestParseStatus(t *testing.T) {
	tests := []struct {
		file       string
		nspid      []int
		capBnd     uint64
		noNewPrivs bool
	}{
		{"status-host.txt", []int{9599}, 0x1fffeffffff, false},
		{"status-nested-pidns.txt", []int{4242, 7, 1}, 0x1ffffffdfff, true},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			s, err := ParseStatus(open(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(s.NSpid, tt.nspid) {
				t.Errorf("NSpid = %v, want %v", s.NSpid, tt.nspid)
			}
			if s.CapBnd != tt.capBnd {
				t.Errorf("CapBnd = %#x, want %#x", s.CapBnd, tt.capBnd)
			}
			if s.NoNewPrivs != tt.noNewPrivs {
				t.Errorf("NoNewPrivs = %v, want %v", s.NoNewPrivs, tt.noNewPrivs)
			}
			if s.Uid[1] != 0 {
				t.Errorf("effective uid = %d, want 0", s.Uid[1])
			}
		})
	}
}

func TestParseStatusBadCap(t *testing.T) {
	if _, err := ParseStatus(strings.NewReader("CapEff:\tzz\n")); err == nil {
		t.Fatal("ParseStatus(CapEff: zz) = nil error, want one")
	}
}

func TestParseMountInfo(t *testing.T) {
	mounts, err := ParseMountInfo(open(t, "mountinfo-host.txt"))
	if err != nil {
		t.Fatal(err)
	}
	m, ok := Find(mounts, "/proc")
	if !ok || m.FSType != "proc" || m.ID != 22 || m.Parent != 27 {
		t.Fatalf("Find(/proc) = %+v, %v; want proc mount 22 under 27", m, ok)
	}
	if got, ok := Find(mounts, "/dev"); !ok {
		t.Fatal("no /dev")
	} else if v, _ := got.SuperOption("mode"); v != "755" {
		t.Errorf("/dev mode = %q, want 755", v)
	}
}

func TestMountPropagationAndEscapes(t *testing.T) {
	in := `30 1 0:40 / /mnt/with\040space rw shared:5 master:2 - tmpfs lab\134tmp rw
31 1 0:41 / /priv rw - tmpfs tmpfs rw
`
	mounts, err := ParseMountInfo(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if mounts[0].Point != "/mnt/with space" || mounts[0].Source != `lab\tmp` {
		t.Errorf("unescape: point %q source %q", mounts[0].Point, mounts[0].Source)
	}
	if p := mounts[0].Propagation(); p != "shared,slave" {
		t.Errorf("Propagation = %q, want shared,slave", p)
	}
	if p := mounts[1].Propagation(); p != "private" {
		t.Errorf("Propagation = %q, want private", p)
	}
	if _, err := ParseMountInfo(strings.NewReader("garbage\n")); err == nil {
		t.Error("ParseMountInfo(garbage) = nil error, want one")
	}
}

func TestParseCgroup(t *testing.T) {
	v1, err := ParseCgroup(open(t, "cgroup-v1-hybrid.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var mem CgroupEntry
	for _, e := range v1 {
		if slices.Contains(e.Controllers, "memory") {
			mem = e
		}
	}
	if mem.ID != 4 || !strings.HasPrefix(mem.Path, "/process_api/") {
		t.Errorf("memory entry = %+v", mem)
	}
	v2, err := ParseCgroup(open(t, "cgroup-v2.txt"))
	if err != nil || len(v2) != 1 || v2[0].ID != 0 || v2[0].Path != "/lab-mem" || v2[0].Controllers != nil {
		t.Errorf("ParseCgroup(v2) = %+v, %v", v2, err)
	}
}

func TestParseIDMap(t *testing.T) {
	m, err := ParseIDMap(open(t, "uid_map-user.txt"))
	if err != nil || len(m) != 1 || m[0] != (IDMap{Inside: 0, Outside: 1000, Count: 1}) {
		t.Errorf("ParseIDMap = %+v, %v", m, err)
	}
	if m, err := ParseIDMap(strings.NewReader("")); err != nil || len(m) != 0 {
		t.Errorf("ParseIDMap(empty) = %+v, %v; want none", m, err)
	}
}

func TestProcessLinksOnFakeFS(t *testing.T) {
	fsys := fstest.MapFS{
		"proc/12/cmdline": {Data: []byte("sleep\x00infinity\x00")},
		"proc/12/comm":    {Data: []byte("sleep\n")},
		"proc/3/comm":     {Data: []byte("init\n")},
		"proc/self":       {Data: []byte("12")},
	}
	pids, err := Pids(fsys)
	if err != nil || !slices.Equal(pids, []int{3, 12}) {
		t.Errorf("Pids = %v, %v; want [3 12]", pids, err)
	}
	args, _ := Cmdline(fsys, 12)
	if !slices.Equal(args, []string{"sleep", "infinity"}) {
		t.Errorf("Cmdline = %q", args)
	}
	if c, _ := Comm(fsys, 12); c != "sleep" {
		t.Errorf("Comm = %q", c)
	}
}

func TestNsInode(t *testing.T) {
	if n, err := NsInode("uts:[4026531838]"); err != nil || n != 4026531838 {
		t.Errorf("NsInode = %d, %v", n, err)
	}
	if _, err := NsInode("uts:4026531838"); err == nil {
		t.Error("NsInode(no brackets) = nil error, want one")
	}
}

func TestLiveSelf(t *testing.T) {
	fsys := os.DirFS("/")
	s, err := ReadStatus(fsys, os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if s.Pid != os.Getpid() {
		t.Errorf("Pid = %d, want %d", s.Pid, os.Getpid())
	}
	if _, err := ReadMountInfo(fsys, "self"); err != nil {
		t.Error(err)
	}
}
