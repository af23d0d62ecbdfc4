// Package checkertest fakes the host a check sees, so probes and checks
// are table-tested without root: a FakeHost is an fstest.MapFS laid out
// like a machine ("proc/42/mountinfo", "proc/42/root" -> "/srv/rootfs"),
// plus a workspace path and recorded quiz answers. It also has a
// golden-file helper for renderers.
package checkertest

import (
	"fmt"
	"io/fs"
	"maps"
	"path"
	"strconv"
	"strings"
	"testing/fstest"

	"github.com/lab-edu/lab/checker"
)

// HostNS are the namespace links of the fake host's processes unless a
// Proc says otherwise: the inode numbers a real kernel gives the initial
// namespaces.
var HostNS = map[string]string{
	"mnt":    "mnt:[4026531841]",
	"uts":    "uts:[4026531838]",
	"ipc":    "ipc:[4026531839]",
	"pid":    "pid:[4026531836]",
	"net":    "net:[4026531840]",
	"user":   "user:[4026531837]",
	"cgroup": "cgroup:[4026531835]",
}

// HostMountInfo is a small host mountinfo: an ext4 root, /proc, /dev, /tmp.
const HostMountInfo = `27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
22 27 0:21 / /proc rw,relatime shared:12 - proc proc rw
24 27 0:6 / /dev rw,relatime shared:2 - devtmpfs devtmpfs rw,mode=755
30 27 0:27 / /tmp rw,relatime shared:3 - tmpfs tmpfs rw
`

// FakeHost implements checker.Host over an in-memory file system.
type FakeHost struct {
	Files   fstest.MapFS
	Work    string            // Workspace(); "/var/lib/lab/work" unless set
	Answers map[string]string // quiz answers by step ID
}

var _ checker.Host = (*FakeHost)(nil)

// New returns a host whose own process (proc/self) is PID 1000, in the
// host namespaces, with root "/" and HostMountInfo, and PID 1 likewise.
func New() *FakeHost {
	h := &FakeHost{Files: fstest.MapFS{}, Work: "/var/lib/lab/work", Answers: map[string]string{}}
	h.AddProcess(Proc{PID: 1, Comm: "systemd", Exe: "/usr/lib/systemd/systemd"})
	h.AddProcess(Proc{PID: 1000, Comm: "lab", Exe: "/usr/local/bin/lab"})
	h.Files["proc/self"] = &fstest.MapFile{Mode: fs.ModeSymlink, Data: []byte("1000")}
	return h
}

// FS returns the fake file system.
func (h *FakeHost) FS() fs.FS { return h.Files }

// Workspace returns Work.
func (h *FakeHost) Workspace() string { return h.Work }

// Answer returns the recorded quiz answer.
func (h *FakeHost) Answer(stepID string) (string, bool) {
	a, ok := h.Answers[stepID]
	return a, ok
}

// Proc describes a fake process. Zero fields get host defaults: root "/",
// HostNS, HostMountInfo, comm "sh".
type Proc struct {
	PID       int
	Comm      string
	Exe       string            // empty: "/bin/<comm>"; "-" for a kernel thread (no exe link)
	Root      string            // what readlink /proc/PID/root shows
	NS        map[string]string // overrides of HostNS, by kind
	MountInfo string
	Status    string // the whole status file; empty: Name and Pid lines
}

// AddProcess lays out proc/PID for p.
func (h *FakeHost) AddProcess(p Proc) {
	dir := "proc/" + strconv.Itoa(p.PID)
	if p.Comm == "" {
		p.Comm = "sh"
	}
	if p.Root == "" {
		p.Root = "/"
	}
	if p.MountInfo == "" {
		p.MountInfo = HostMountInfo
	}
	if p.Status == "" {
		p.Status = fmt.Sprintf("Name:\t%s\nState:\tS (sleeping)\nPid:\t%d\nPPid:\t1\n", p.Comm, p.PID)
	}
	ns := maps.Clone(HostNS)
	maps.Copy(ns, p.NS)
	h.Files[dir] = &fstest.MapFile{Mode: fs.ModeDir | 0o555}
	h.Files[dir+"/comm"] = &fstest.MapFile{Data: []byte(p.Comm + "\n")}
	h.Files[dir+"/cmdline"] = &fstest.MapFile{Data: []byte(p.Comm + "\x00")}
	h.Files[dir+"/status"] = &fstest.MapFile{Data: []byte(p.Status)}
	h.Files[dir+"/mountinfo"] = &fstest.MapFile{Data: []byte(p.MountInfo)}
	h.Files[dir+"/root"] = &fstest.MapFile{Mode: fs.ModeSymlink, Data: []byte(p.Root)}
	switch p.Exe {
	case "-":
	case "":
		h.Files[dir+"/exe"] = &fstest.MapFile{Mode: fs.ModeSymlink, Data: []byte("/bin/" + p.Comm)}
	default:
		h.Files[dir+"/exe"] = &fstest.MapFile{Mode: fs.ModeSymlink, Data: []byte(p.Exe)}
	}
	for kind, link := range ns {
		h.Files[dir+"/ns/"+kind] = &fstest.MapFile{Mode: fs.ModeSymlink, Data: []byte(link)}
	}
}

// AddFile adds a regular file at the absolute path name.
func (h *FakeHost) AddFile(name, data string, mode fs.FileMode) {
	h.Files[rel(name)] = &fstest.MapFile{Data: []byte(data), Mode: mode}
}

// AddDir adds a directory at the absolute path name.
func (h *FakeHost) AddDir(name string) {
	h.Files[rel(name)] = &fstest.MapFile{Mode: fs.ModeDir | 0o755}
}

// AddSymlink adds a symbolic link at name pointing to target.
func (h *FakeHost) AddSymlink(name, target string) {
	h.Files[rel(name)] = &fstest.MapFile{Mode: fs.ModeSymlink | 0o777, Data: []byte(target)}
}

// Remove deletes name and everything below it.
func (h *FakeHost) Remove(name string) {
	r := rel(name)
	for k := range h.Files {
		if k == r || strings.HasPrefix(k, r+"/") {
			delete(h.Files, k)
		}
	}
}

func rel(name string) string { return strings.TrimPrefix(path.Clean("/"+name), "/") }
