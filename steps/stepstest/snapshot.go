package stepstest

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// State is what a lab may leave behind, as sorted sets of one-line items
// per kind ("netns", "link", "mount", ...).
type State map[string][]string

// Snapshot reads the parts of the host a lab may change: named network
// namespaces, host links, mounts, cgroups named lab*, processes that are
// not in the host's namespaces or root, System V IPC objects, the host
// name, lab* files in /tmp, /run and /dev/shm, and the iptables rules.
func Snapshot(t testing.TB) State {
	t.Helper()
	return Take()
}

// Take is Snapshot outside a test, for `lab dev check`.
func Take() State {
	s := State{}
	s["netns"] = dirNames("/run/netns")
	s["link"] = dirNames("/sys/class/net")
	s["mount"] = mounts()
	s["cgroup"] = labCgroups()
	s["process"] = isolatedProcesses()
	s["ipc"] = sysvIPC()
	host, _ := os.Hostname()
	s["hostname"] = []string{host}
	for _, dir := range []string{"/tmp", "/run", "/dev/shm"} {
		for _, name := range dirNames(dir) {
			if strings.HasPrefix(name, "lab") {
				s["file"] = append(s["file"], filepath.Join(dir, name))
			}
		}
	}
	s["iptables"] = iptablesRules()
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_forward"); err == nil { // the netns lab turns it on
		s["sysctl"] = []string{"net.ipv4.ip_forward=" + strings.TrimSpace(string(b))}
	}
	for k := range s {
		slices.Sort(s[k])
	}
	return s
}

// Same fails the test when after differs from before. Some teardown is
// asynchronous in the kernel (a dying process, a netns whose last user just
// left, its veths), so it re-reads the host for up to three seconds before
// it reports a difference. A process namespace or root that is gone is
// only logged (see Departed).
func Same(t testing.TB, before State, after State) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		diff, departed := Departed(Diff(before, after))
		if diff == "" {
			if departed != "" {
				t.Logf("not counted: processes that were there before the test ended:\n%s", departed)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("host state changed (- gone, + left behind):\n%s%s", diff, departed)
		}
		time.Sleep(100 * time.Millisecond)
		after = Snapshot(t)
	}
}

// Departed splits from a Diff its "- process" lines: namespaces and roots
// of processes that were there before and are gone. Such a process was
// not the test's (it was running before the test began) and ends on its
// own schedule: a leftover of an earlier test that did not compare the
// host, or a program of the machine's. Only what is left behind ("+")
// is a test's doing.
func Departed(diff string) (rest, departed string) {
	var r, d strings.Builder
	for _, line := range strings.SplitAfter(diff, "\n") {
		if strings.HasPrefix(line, "- process ") {
			d.WriteString(line)
		} else {
			r.WriteString(line)
		}
	}
	return r.String(), d.String()
}

// Diff lists items removed (-) and added (+) per kind, or "" when equal.
func Diff(before, after State) string {
	var out strings.Builder
	kinds := make([]string, 0, len(before)+len(after))
	for k := range before {
		kinds = append(kinds, k)
	}
	for k := range after {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	for _, k := range slices.Compact(kinds) {
		for _, item := range before[k] {
			if !slices.Contains(after[k], item) {
				fmt.Fprintf(&out, "- %s %s%s\n", k, item, whoHeld(k, item))
			}
		}
		for _, item := range after[k] {
			if !slices.Contains(before[k], item) {
				fmt.Fprintf(&out, "+ %s %s%s\n", k, item, whoHeld(k, item))
			}
		}
	}
	return out.String()
}

func dirNames(dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// mounts lists "mountpoint fstype source" of this process's mount
// namespace (field 5, the mount point, and the fields after " - "),
// without systemd's per-service credential mounts (/run/credentials/UNIT),
// which come and go with the services systemd starts and stops on its own
// (the VM's systemd-tmpfiles-clean timer, for one).
func mounts() []string {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if !ok || len(f) < 5 || len(g) < 2 {
			continue
		}
		if strings.HasPrefix(f[4], "/run/credentials/") {
			continue
		}
		out = append(out, f[4]+" "+g[0]+" "+g[1])
	}
	return out
}

// labCgroups lists directories whose name starts with "lab" anywhere in
// the cgroup hierarchies (v1 controllers and the v2 tree).
func labCgroups() []string {
	var out []string
	_ = filepath.WalkDir("/sys/fs/cgroup", func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if strings.Count(path, "/") > 7 {
			return filepath.SkipDir
		}
		if strings.HasPrefix(d.Name(), "lab") {
			out = append(out, path)
		}
		return nil
	})
	return out
}

// isolatedProcesses lists what lives apart from the host: every namespace
// (as its /proc/PID/ns link, "mnt:[4026532201]") that a process uses
// instead of the host's, and every root directory other than the host's
// ("root /path"). A process a lab leaks shows up as its namespace or root;
// processes that come and go inside namespaces that were already there
// (systemd's udev workers run in a mount namespace of their own) do not.
// Kernel threads have no exe and are left out, and so are the processes of
// other systemd services (see otherService): their sandboxes come and go
// with the services, on systemd's schedule.
func isolatedProcesses() []string {
	kinds := []string{"mnt", "uts", "ipc", "pid", "net", "user", "cgroup"}
	host := map[string]string{}
	// PID 1's links are unreadable when it holds capabilities we lack
	// (ptrace access mode); then this process's own are the host's.
	for _, k := range kinds {
		if host[k], _ = os.Readlink("/proc/1/ns/" + k); host[k] == "" {
			host[k], _ = os.Readlink("/proc/self/ns/" + k)
		}
	}
	hostRoot, _ := os.Readlink("/proc/1/root")
	if hostRoot == "" {
		hostRoot, _ = os.Readlink("/proc/self/root")
	}
	own := unifiedCgroup("/proc/self")
	seen := map[string]bool{}
	for _, name := range dirNames("/proc") {
		if _, err := strconv.Atoi(name); err != nil {
			continue
		}
		p := "/proc/" + name
		if _, err := os.Readlink(p + "/exe"); err != nil {
			continue
		}
		if otherService(p, own) {
			continue
		}
		if root, _ := os.Readlink(p + "/root"); root != "" && root != hostRoot {
			seen["root "+root] = true
			noteHolder("root "+root, p)
		}
		for _, k := range kinds {
			if ns, _ := os.Readlink(p + "/ns/" + k); ns != "" && ns != host[k] {
				seen[ns] = true
				noteHolder(ns, p)
			}
		}
	}
	out := make([]string, 0, len(seen))
	for item := range seen {
		out = append(out, item)
	}
	return out
}

// holders remembers, for each process item a snapshot saw, one process
// that held it ("PID 812 sleep, cgroup /lab-ctr-..."), so that a diff can
// say who a namespace belonged to even after the process is gone.
var holders = struct {
	sync.Mutex
	who map[string]string
}{who: map[string]string{}}

// noteHolder records process dir p as the holder of item. The latest
// snapshot wins: the kernel reuses namespace inode numbers.
func noteHolder(item, p string) {
	comm, _ := os.ReadFile(p + "/comm")
	cmdline, _ := os.ReadFile(p + "/cmdline")
	args := strings.Fields(strings.ReplaceAll(string(cmdline), "\x00", " "))
	if len(args) > 6 {
		args = append(args[:6], "...")
	}
	holders.Lock()
	defer holders.Unlock()
	holders.who[item] = fmt.Sprintf("PID %s %s (%s), cgroup %s",
		filepath.Base(p), strings.TrimSpace(string(comm)), strings.Join(args, " "), unifiedCgroup(p))
}

// whoHeld is " (held by ...)" for a process item a snapshot saw, or "".
func whoHeld(kind, item string) string {
	if kind != "process" {
		return ""
	}
	holders.Lock()
	defer holders.Unlock()
	if who, ok := holders.who[item]; ok {
		return " (held by " + who + ")"
	}
	return ""
}

// unifiedCgroup is the cgroup v2 path of process dir p ("0::/path" in
// /proc/PID/cgroup), "" on a host without one.
func unifiedCgroup(p string) string {
	b, err := os.ReadFile(p + "/cgroup")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if path, ok := strings.CutPrefix(line, "0::"); ok {
			return path
		}
	}
	return ""
}

// otherService reports whether process dir p belongs to a systemd service
// other than the caller's own (its cgroup is /system.slice/NAME.service/...
// and the caller's is not in that unit). systemd starts services with
// PrivateTmp= or ProtectHostname= in new mount and UTS namespaces, and
// timers and socket activation start and stop them at any moment (the
// test VM's systemd-tmpfiles-clean.timer did, mid-test). Processes of the
// labs and the tests are the caller's descendants, in its own unit or
// session, or in lab-* cgroups: they are never skipped.
func otherService(p, own string) bool {
	cg := unifiedCgroup(p)
	rest, ok := strings.CutPrefix(cg, "/system.slice/")
	if !ok {
		return false
	}
	unit, _, _ := strings.Cut(rest, "/")
	return strings.HasSuffix(unit, ".service") && !strings.HasPrefix(own, "/system.slice/"+unit)
}

// sysvIPC lists the keys and ids of message queues, shared memory segments
// and semaphore sets in this IPC namespace.
func sysvIPC() []string {
	var out []string
	for _, kind := range []string{"msg", "shm", "sem"} {
		b, err := os.ReadFile("/proc/sysvipc/" + kind)
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		for _, line := range lines[1:] {
			if f := strings.Fields(line); len(f) >= 2 {
				out = append(out, kind+" key="+f[0]+" id="+f[1])
			}
		}
	}
	return out
}

// iptablesRules is the ruleset of every table, without counters and
// comments, when iptables-save is installed: "TABLE RULE" lines, and the
// chains that are not built-in ones with the default ACCEPT policy.
func iptablesRules() []string {
	path, err := exec.LookPath("iptables-save")
	if err != nil {
		return nil
	}
	b, err := exec.Command(path).Output()
	if err != nil {
		return nil
	}
	var out []string
	table := ""
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case line == "" || strings.HasPrefix(line, "#") || line == "COMMIT":
			continue
		case strings.HasPrefix(line, "*"):
			// A table is not state by itself: with the nf_tables backend the
			// first rule creates it and deleting the rule leaves it, empty.
			table = line[1:]
			continue
		case strings.HasPrefix(line, ":"): // chain with counters: keep the name and policy
			f := strings.Fields(line)
			if len(f) >= 2 && f[1] == "ACCEPT" && builtinChain[strings.TrimPrefix(f[0], ":")] {
				continue // a built-in chain with its default policy is no state either
			}
			line = strings.Join(f[:min(2, len(f))], " ")
		}
		out = append(out, table+" "+line)
	}
	return out
}

var builtinChain = map[string]bool{"PREROUTING": true, "INPUT": true, "FORWARD": true, "OUTPUT": true, "POSTROUTING": true}
