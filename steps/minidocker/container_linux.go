package minidockerlab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/kernel/cgroup"
	"github.com/lab-edu/lab/kernel/mount"
	"github.com/lab-edu/lab/kernel/procfs"
)

// start runs `mini run ROOTFS /bin/sleep 30` and waits until a descendant
// of mini runs sleep: that process is the container's COMMAND, whatever
// mini did in between (re-executed itself, forked, or nothing). When mini
// cannot start or ends first, start returns the Result that says why.
func start(ctx context.Context, h checker.Host, name string) (*miniRun, *checker.Result) {
	work := workOf(h)
	if r := preconditions(name, work); r != nil {
		return nil, r
	}
	c := &miniRun{work: work, out: &tail{max: 4096}, done: make(chan struct{})}
	c.cmd = exec.Command(binaryOf(work), append([]string{"run", rootfsOf(work)}, probeArgv...)...)
	c.cmd.Dir = programDirOf(work)
	c.cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	c.cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid:   true,            // one group to kill if mini misbehaves
		Pdeathsig: syscall.SIGKILL, // and mini dies if lab does
	}
	c.cmd.WaitDelay = time.Second // stop waiting for its output once it exited
	if err := c.cmd.Start(); err != nil {
		r := checker.Failed(name, fmt.Sprintf("%s cannot be started: %v", binaryOf(work), err),
			"rebuild it: cd "+programDirOf(work)+" && go build -o mini .")
		return nil, &r
	}
	c.Mini = c.cmd.Process.Pid
	go func() { c.err = c.cmd.Wait(); close(c.done) }()

	deadline := time.Now().Add(startTimeout)
	for {
		if pid := c.findCommand(); pid != 0 {
			c.PID = pid
			if entries, err := procfs.ReadCgroup(h.FS(), pid); err == nil {
				if hier, err := cgroup.Detect(); err == nil {
					c.groups = hier.GroupsOf(entries)
				}
			}
			return c, nil
		}
		select {
		case <-c.done:
			r := checker.Failed(name,
				fmt.Sprintf("mini exited (%s) before it ran %s: %s", exitText(c.err), strings.Join(probeArgv, " "), c.out.lastLines(3)),
				"run it yourself: sudo "+c.commandLine())
			c.stop()
			return nil, &r
		case <-ctx.Done():
			c.stop()
			r := checker.Errored(name, ctx.Err())
			return nil, &r
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			r := checker.Failed(name,
				fmt.Sprintf("%s did not start %s within %s: %s", c.commandLine(), probeComm, startTimeout, c.out.lastLines(3)),
				"run it yourself and see where it stops: sudo "+c.commandLine())
			c.stop()
			return nil, &r
		}
	}
}

// preconditions fails when there is no program or no rootfs to run.
func preconditions(name, work string) *checker.Result {
	bin := binaryOf(work)
	st, err := os.Stat(bin)
	switch {
	case errors.Is(err, os.ErrNotExist):
		hint := "build it: cd " + programDirOf(work) + " && go build -o mini ."
		if _, err := os.Stat(filepath.Join(programDirOf(work), "main.go")); err != nil {
			hint = "`sudo lab goto " + ID + "/namespaces` writes the skeleton in " + programDirOf(work) + "; then " + hint
		}
		r := checker.Mismatch(name, "your program built as "+bin, "no file there", hint)
		return &r
	case err != nil:
		r := checker.Errored(name, err)
		return &r
	case st.Mode()&0o111 == 0 || !st.Mode().IsRegular():
		r := checker.Failed(name, bin+" is not an executable file", "cd "+programDirOf(work)+" && go build -o mini .")
		return &r
	}
	if _, err := os.Stat(rootfsOf(work) + "/bin/busybox"); err != nil {
		r := checker.Failed(name, "the busybox rootfs "+rootfsOf(work)+" is missing or incomplete",
			"`sudo lab goto` this step again: it rebuilds the rootfs (your program stays)")
		return &r
	}
	return nil
}

// findCommand returns the PID of the descendant of mini that runs sleep,
// or 0.
func (c *miniRun) findCommand() int {
	for _, p := range descendants(c.Mini) {
		if p.comm == probeComm {
			return p.pid
		}
	}
	return 0
}

// proc is a process as its /proc/PID/stat names it.
type proc struct {
	pid, ppid int
	comm      string
}

// descendants lists the processes whose chain of parents reaches pid (in
// new PID namespaces too: /proc/PID/stat shows the parent's PID as the
// host sees it).
func descendants(pid int) []proc {
	pids, err := procfs.Pids(os.DirFS("/"))
	if err != nil {
		return nil
	}
	all := map[int]proc{}
	for _, p := range pids {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(p) + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		s := string(b)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || end < open {
			continue
		}
		fields := strings.Fields(s[end+1:])
		if len(fields) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(fields[1])
		all[p] = proc{pid: p, ppid: ppid, comm: s[open+1 : end]}
	}
	var out []proc
	for _, p := range pids {
		for up, hops := all[p].ppid, 0; up > 1 && hops < 64; up, hops = all[up].ppid, hops+1 {
			if up == pid {
				out = append(out, all[p])
				break
			}
		}
	}
	return out
}

// stop kills the container's command and waits for mini to clean up and
// exit (that is its parent's job: mini removes its cgroup once its child is
// gone); then it kills whatever of this run is left (mini's process group
// and every descendant, however a buggy mini detached it) and removes
// what a buggy mini may have left: mounts below the rootfs in lab's mount
// namespace, and the lab-mini-* groups the command was in. Another mini
// the student runs at the same time is not touched.
func (c *miniRun) stop() {
	left := descendants(c.Mini)
	if c.PID > 0 {
		_ = syscall.Kill(c.PID, syscall.SIGKILL)
	}
	select {
	case <-c.done:
	case <-time.After(exitTimeout):
		_ = syscall.Kill(-c.Mini, syscall.SIGKILL)
		<-c.done
	}
	_ = syscall.Kill(-c.Mini, syscall.SIGKILL)
	for _, p := range left {
		_ = syscall.Kill(p.pid, syscall.SIGKILL)
	}
	_ = teardownRun(c.work, c.groups)
}

// teardownRun removes what one run of mini may have left: mounts below the
// rootfs in lab's mount namespace (a mini that mounted without its own
// mount namespace), and the lab-mini-* groups the command was in.
func teardownRun(work string, groups []cgroup.Membership) error {
	errs := []error{mount.UnmountAll(rootfsOf(work))}
	for _, m := range groups {
		if isLabGroup(m.Group) {
			errs = append(errs, removeGroups(strings.TrimPrefix(m.Group, "/")))
		}
	}
	return errors.Join(errs...)
}
