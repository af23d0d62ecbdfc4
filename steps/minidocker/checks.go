package minidockerlab

import (
	"context"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/checker/probe"
	"github.com/lab-edu/lab/kernel/caps"
	"github.com/lab-edu/lab/kernel/cgroup"
	"github.com/lab-edu/lab/kernel/ns"
	"github.com/lab-edu/lab/kernel/procfs"
	"github.com/lab-edu/lab/kernel/rootfs"
)

// Values the skeleton's main.go fixes, which the checks expect.
const (
	wantHostname = "mini"
	wantMemory   = 64 << 20
	wantPids     = 64
)

// containerKinds are the namespaces a container gets (user and cgroup
// namespaces are options in real runtimes, not asked for here).
var containerKinds = []ns.Kind{ns.UTS, ns.PID, ns.Mount, ns.IPC, ns.Net}

// inspect is the part of a check that looks at a running container.
type inspect func(ctx context.Context, h checker.Host, c *miniRun) checker.Result

// containerCheck runs the student's mini once, lets look inspect the
// container it started, then stops it and removes what it left. When the
// check fails and a source file is newer than the binary, the hint starts
// with a reminder to rebuild.
func containerCheck(name string, look inspect) checker.Check {
	return func(ctx context.Context, h checker.Host) checker.Result {
		c, r := start(ctx, h, name)
		var res checker.Result
		if r != nil {
			res = *r
		} else {
			func() {
				defer c.stop() // even if look panics (checker.Safe recovers it)
				res = look(ctx, h, c)
			}()
		}
		res.Name = name
		if !res.OK() {
			if newer := newerSources(workOf(h)); len(newer) > 0 {
				res.Hint = "rebuild first, " + strings.Join(newer, ", ") + " changed after mini was built: cd " +
					programDirOf(workOf(h)) + " && go build -o mini . Then: " + res.Hint
			}
		}
		return res
	}
}

// shared lists the kinds of namespace the container's command shares with
// lab itself (the host's, for the student's shell).
func shared(h checker.Host, c *miniRun, kinds ...ns.Kind) ([]string, error) {
	var out []string
	for _, k := range kinds {
		theirs, err := ns.Of(h.FS(), c.PID, k)
		if err != nil {
			return nil, err
		}
		ours, err := ns.Of(h.FS(), os.Getpid(), k)
		if err != nil {
			return nil, err
		}
		if theirs.Equal(ours) {
			out = append(out, string(k))
		}
	}
	return out, nil
}

// needs fails when the container shares a namespace a topic builds on.
func needs(h checker.Host, c *miniRun, name string, kinds ...ns.Kind) *checker.Result {
	same, err := shared(h, c, kinds...)
	if err != nil {
		r := checker.Errored(name, err)
		return &r
	}
	if len(same) > 0 {
		r := checker.Failed(name,
			fmt.Sprintf("the container's command (PID %d) is still in the host's %s namespace, so this step cannot be done safely", c.PID, strings.Join(same, " and ")),
			"finish the namespaces step first: cloneFlags in namespaces.go")
		return &r
	}
	return nil
}

// checkNamespaces: new uts, pid, mnt, ipc and net namespaces, and the
// command is PID 1 of its PID namespace.
func checkNamespaces(ctx context.Context, h checker.Host, c *miniRun) checker.Result {
	const name = "the container's namespaces"
	same, err := shared(h, c, containerKinds...)
	if err != nil {
		return checker.Errored(name, err)
	}
	if len(same) > 0 {
		return checker.Mismatch(name, "new uts, pid, mnt, ipc and net namespaces",
			fmt.Sprintf("the command (PID %d) shares the host's %s", c.PID, strings.Join(same, ", ")),
			"return syscall.CLONE_NEWUTS | syscall.CLONE_NEWPID | ... from cloneFlags in namespaces.go, then go build -o mini .")
	}
	st, err := procfs.ReadStatus(h.FS(), c.PID)
	if err != nil {
		return checker.Errored(name, err)
	}
	inner := 0
	if len(st.NSpid) > 0 {
		inner = st.NSpid[len(st.NSpid)-1]
	}
	if inner != 1 {
		return checker.Mismatch(name, "the command is PID 1 of its PID namespace (the last NSpid of /proc/PID/status)",
			fmt.Sprintf("PID %d inside (NSpid %v)", inner, st.NSpid),
			"mini init must execve the command (syscall.Exec), not start it as a child: exec keeps the PID")
	}
	var ev []string
	for _, k := range containerKinds {
		id, _ := ns.Of(h.FS(), c.PID, k)
		ev = append(ev, fmt.Sprintf("%s: %s, not the host's", k, id))
	}
	ev = append(ev, fmt.Sprintf("PID %d on the host is PID 1 inside (NSpid %v)", c.PID, st.NSpid))
	return checker.Passed(name, ev...)
}

// checkHostname: the container's UTS namespace is named "mini".
func checkHostname(ctx context.Context, h checker.Host, c *miniRun) checker.Result {
	const name = "the container's hostname"
	if r := needs(h, c, name, ns.UTS); r != nil {
		return *r
	}
	names, err := ns.UTSNames(c.PID)
	if err != nil {
		return checker.Errored(name, err)
	}
	if names.Hostname != wantHostname {
		return checker.Mismatch(name, fmt.Sprintf("hostname %q inside the container", wantHostname), fmt.Sprintf("%q (a new UTS namespace starts with a copy of the host's)", names.Hostname),
			"setHostname in hostname.go: syscall.Sethostname([]byte(name))")
	}
	host, _ := os.Hostname()
	return checker.Passed(name, fmt.Sprintf("uname(2) in the container's UTS namespace says %q; the host is still %q", names.Hostname, host))
}

// checkPivotRoot: the container's root mount is the rootfs, no mount of
// the host's root file system is left in its namespace, and the chroot
// escape run from inside it stays inside.
func checkPivotRoot(ctx context.Context, h checker.Host, c *miniRun) checker.Result {
	const name = "the container's root"
	if r := needs(h, c, name, ns.Mount); r != nil {
		return *r
	}
	fsys := h.FS()
	dir := rootfsOf(c.work)
	p := probe.Process{PID: c.PID, Comm: probeComm}
	p.Root, _ = procfs.Root(fsys, c.PID)
	p.MntNS, _ = procfs.NsLink(fsys, c.PID, "mnt")
	theirs, err := probe.MountsOf(fsys, p)
	if err != nil {
		return checker.Errored(name, err)
	}
	host, err := probe.Mounts(fsys, "self")
	if err != nil {
		return checker.Errored(name, err)
	}
	if jail := probe.PivotedInto(theirs, host, p, dir); !jail.OK {
		hint := "pivotRoot in pivot.go: make / private, bind the rootfs onto itself, pivot_root into it, chdir /, then unmount the old root with MNT_DETACH"
		if probe.RootIs(fsys, p, dir) {
			if _, top := probe.MountedAt(theirs, "/"); !top {
				hint = "a chroot is not enough: " + hint
			}
		}
		return checker.Failed(name, jail.Reason, hint)
	}
	res, err := rootfs.EscapeFromProcess(ctx, c.PID)
	if err != nil {
		return checker.Errored(name, err)
	}
	if res.Escaped {
		return checker.Failed(name, fmt.Sprintf("the chroot escape run inside the container reached the host's root (%s)", strings.Join(res.Entries, " ")),
			"the old root must be detached: syscall.Unmount(\"/.old_root\", syscall.MNT_DETACH) after pivot_root")
	}
	return checker.Passed(name,
		fmt.Sprintf("PID %d has %s as the root mount of its own mount namespace, and no mount of the host's root", c.PID, dir),
		"the chroot escape from inside it ended on its own root ("+strings.Join(res.Entries, " ")+")")
}

// checkProc: a proc file system on /proc inside, and it is the
// container's: its PID 1 is the command, and it lists only the container's
// processes.
func checkProc(ctx context.Context, h checker.Host, c *miniRun) checker.Result {
	const name = "the container's /proc"
	if r := needs(h, c, name, ns.Mount, ns.PID); r != nil {
		return *r
	}
	theirs, err := procfs.ReadMountInfo(h.FS(), strconv.Itoa(c.PID))
	if err != nil {
		return checker.Errored(name, err)
	}
	m, ok := procfs.Find(theirs, "/proc")
	if !ok {
		return checker.Mismatch(name, "a proc file system mounted on /proc inside the container", "nothing mounted on /proc (its mountinfo has no /proc line)",
			`mountProc in proc.go: syscall.Mount("proc", "/proc", "proc", flags, "") after pivot_root`)
	}
	if m.FSType != "proc" {
		return checker.Mismatch(name, "a proc file system on /proc", fmt.Sprintf("%s (%s)", m.FSType, m.Source), "mount a file system of type \"proc\" on /proc")
	}
	// Through /proc/PID/root the kernel walks the container's own mounts:
	// this is its /proc, as `ls /proc` inside would show it.
	inside := path.Join("/proc", strconv.Itoa(c.PID), "root", "proc")
	entries, err := os.ReadDir(inside)
	if err != nil {
		return checker.Errored(name, fmt.Errorf("read the container's /proc: %w", err))
	}
	var pids []string
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, e.Name())
		}
	}
	comm, err := os.ReadFile(path.Join(inside, "1", "comm"))
	if err != nil || strings.TrimSpace(string(comm)) != probeComm {
		found := "no PID 1"
		if err == nil {
			found = fmt.Sprintf("PID 1 is %q and %d processes are listed: the host's", strings.TrimSpace(string(comm)), len(pids))
		}
		return checker.Mismatch(name, "a /proc whose PID 1 is the container's command ("+probeComm+")", found,
			"mount proc from inside the new PID namespace (in mini init, after pivot_root): a proc mount shows the PID namespace of whoever mounts it")
	}
	return checker.Passed(name,
		fmt.Sprintf("proc is mounted on /proc in the container's mount namespace (mount %d)", m.ID),
		fmt.Sprintf("its /proc lists %d process(es): %s, and PID 1 is %s", len(pids), strings.Join(pids, " "), probeComm))
}

// checkCgroup: the command is in a lab-mini-* group of its own, with a
// memory limit and a pids limit.
func checkCgroup(ctx context.Context, h checker.Host, c *miniRun) checker.Result {
	const name = "the container's cgroup"
	fsys := h.FS()
	hier, err := cgroup.Detect()
	if err != nil {
		return checker.Skipped(name, "no cgroup hierarchy: "+err.Error(), "mount cgroup2 on /sys/fs/cgroup")
	}
	entries, err := procfs.ReadCgroup(fsys, c.PID)
	if err != nil {
		return checker.Errored(name, err)
	}
	mine, err := procfs.ReadCgroup(fsys, os.Getpid())
	if err != nil {
		return checker.Errored(name, err)
	}
	groupOf := func(members []cgroup.Membership, controller string) string {
		for _, m := range members {
			if hier.Version == cgroup.V2 || m.Controller == controller {
				return m.Group
			}
		}
		return ""
	}
	theirs, ours := hier.GroupsOf(entries), hier.GroupsOf(mine)
	var ev []string
	for _, want := range []struct {
		controller string
		file       cgroup.File
		limit      uint64
		read       func(fs.FS, string) (cgroup.Limit, error)
	}{
		{cgroup.Memory, cgroup.MemoryLimit, wantMemory, hier.ReadMemoryLimit},
		{cgroup.Pids, cgroup.PidsMax, wantPids, hier.ReadPidsMax},
	} {
		group := groupOf(theirs, want.controller)
		label := hier.Label(want.file)
		where := want.controller + " group"
		if hier.Version == cgroup.V2 {
			where = "group"
		}
		switch {
		case group == "" || group == groupOf(ours, want.controller):
			return checker.Mismatch(name, "the command in a cgroup of its own ("+groupPrefix+"<PID>)",
				fmt.Sprintf("it is in the %s %q, lab's own", where, group),
				fmt.Sprintf("joinCgroup in cgroup.go: mkdir the group, write its limits, then write 0 to its cgroup.procs (%s)", hier.Path(cgroup.Procs(want.controller), groupPrefix+"PID")))
		case !isLabGroup(group):
			return checker.Mismatch(name, "a group named "+groupPrefix+"<PID of mini run>, as main.go names it", fmt.Sprintf("the %s %q", where, group),
				"use the name run passes to mini init, so lab reset can find leftovers")
		}
		l, err := want.read(fsys, strings.TrimPrefix(group, "/"))
		if err != nil {
			return checker.Errored(name, err)
		}
		if l.Max || l.Value != want.limit {
			return checker.Mismatch(name, fmt.Sprintf("%s of %s = %d", label, group, want.limit), l.String(),
				fmt.Sprintf("joinCgroup in cgroup.go: write %d to %s", want.limit, hier.Path(want.file, strings.TrimPrefix(group, "/"))))
		}
		ev = append(ev, fmt.Sprintf("the command is in %s (%s), whose %s is %d", group, hier.Dir(want.controller, strings.TrimPrefix(group, "/")), label, want.limit))
	}
	return checker.Passed(name, ev...)
}

// checkCaps: the bounding, effective and permitted sets hold no more than
// Docker's default 14, inheritable and ambient are empty, and
// no_new_privs is set.
func checkCaps(ctx context.Context, h checker.Host, c *miniRun) checker.Result {
	const name = "the container's capabilities"
	st, err := procfs.ReadStatus(h.FS(), c.PID)
	if err != nil {
		return checker.Errored(name, err)
	}
	sets := caps.FromStatus(st)
	for _, s := range []struct {
		name string
		set  caps.Set
	}{{"CapBnd (bounding)", sets.Bounding}, {"CapPrm (permitted)", sets.Permitted}, {"CapEff (effective)", sets.Effective}} {
		if extra := s.set &^ caps.DockerDefault; extra != 0 {
			return checker.Mismatch(name, s.name+" within Docker's default 14 capabilities",
				fmt.Sprintf("%d more: %s", extra.Len(), shortList(extra.Names(), 6)),
				"dropCapabilities in caps.go: prctl(PR_CAPBSET_DROP) every capability not in keptCaps, then capset; root gets its bounding set back at execve")
		}
	}
	if sets.Inheritable != 0 || sets.Ambient != 0 {
		return checker.Mismatch(name, "empty inheritable and ambient sets",
			fmt.Sprintf("CapInh %s, CapAmb %s", sets.Inheritable.Hex(), sets.Ambient.Hex()),
			"capset(mask, mask, 0) and prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)")
	}
	if !st.NoNewPrivs {
		return checker.Mismatch(name, "NoNewPrivs: 1", "NoNewPrivs: 0",
			"prctl(PR_SET_NO_NEW_PRIVS, 1) in dropCapabilities, before the execve")
	}
	ev := []string{"CapBnd " + sets.Bounding.Decode(), "CapEff " + sets.Effective.Hex() + ", CapInh and CapAmb empty, NoNewPrivs 1"}
	if last, err := caps.LastCap(h.FS()); err == nil {
		ev = append(ev, "gone from the bounding set: "+shortList((caps.Full(last)&^sets.Bounding).Names(), 8))
	}
	return checker.Passed(name, ev...)
}

// checkNetwork: the container has its own network namespace in which lo is
// up, and a TCP connection to 127.0.0.1 inside it works.
func checkNetwork(ctx context.Context, h checker.Host, c *miniRun) checker.Result {
	const name = "the container's network"
	if r := needs(h, c, name, ns.Net); r != nil {
		return *r
	}
	var (
		up      bool
		names   []string
		connErr error
	)
	err := ns.Do(c.PID, []ns.Kind{ns.Net}, func() error {
		ifaces, err := net.Interfaces()
		if err != nil {
			return err
		}
		for _, i := range ifaces {
			names = append(names, i.Name)
			if i.Name == "lo" {
				up = i.Flags&net.FlagUp != 0
			}
		}
		if up {
			connErr = loopbackConnect()
		}
		return nil
	})
	if err != nil {
		return checker.Errored(name, err)
	}
	switch {
	case !up:
		return checker.Mismatch(name, "lo up in the container's network namespace",
			fmt.Sprintf("lo is down (interfaces: %s)", strings.Join(names, " ")),
			"setupNetwork in network.go: set syscall.IFF_UP in lo's flags (interfaceFlags, setInterfaceFlags)")
	case connErr != nil:
		return checker.Failed(name, "lo is up but a TCP connection to 127.0.0.1 inside the container fails: "+connErr.Error(),
			"is 127.0.0.1 still on lo? the kernel adds it when lo goes up")
	}
	return checker.Passed(name,
		fmt.Sprintf("interfaces in the container's network namespace: %s; lo is up", strings.Join(names, " ")),
		"a TCP connection to 127.0.0.1 inside it was accepted")
}

// loopbackConnect listens on 127.0.0.1 and connects to it. Both sockets are
// created on the calling thread, so in the network namespace it joined.
func loopbackConnect() error {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer l.Close()
	conn, err := net.DialTimeout("tcp4", l.Addr().String(), time.Second)
	if err != nil {
		return err
	}
	return conn.Close()
}

// shortList joins at most n names, then says how many more.
func shortList(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:n], ", "), len(names)-n)
}
