// Package cgroupslab is the cgroups lab: a memory limit and a real OOM
// kill, a CPU quota and measured throttling, a pids limit that stops a fork
// bomb, freezing a group, reading a group's accounting, and weights versus
// limits. It works on cgroup v1 (and hybrid) and v2 hosts: every check
// looks for the group by name in the hierarchy of the version in use and
// names the files of that version.
package cgroupslab

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/kernel/cgroup"
	"github.com/lab-edu/lab/kernel/reexec"
	"github.com/lab-edu/lab/steps"
)

// The lab's groups. Every group the lab, or the student following it,
// makes has one of these names; Reset removes exactly these (and the
// groups below them), never another group.
const (
	memGroup    = "lab-mem"
	cpuGroup    = "lab-cpu"
	pidsGroup   = "lab-pids"
	freezeGroup = "lab-freeze"
	acctGroup   = "lab-acct"
)

// Groups lists the lab's group names.
var Groups = []string{memGroup, cpuGroup, pidsGroup, freezeGroup, acctGroup}

// detect finds the host's hierarchy; tests replace it to check a captured
// v2 tree on a v1 machine.
var detect = cgroup.Detect

// Steps are the lab's steps, in order.
var Steps = []steps.Step{
	MemoryLimit,
	OOM,
	CPUQuota,
	PidsLimit,
	Freeze,
	Accounting,
	Weight,
}

// Reset kills the lab's probes wherever they are (a crashed check may
// leave one), then removes every lab group. The steps' Cleanups remove the
// groups too; Reset is the catch-all after a crash.
func Reset(ctx context.Context, env *steps.Env) error {
	var errs []error
	for _, pid := range labProcesses() {
		if p, err := os.FindProcess(pid); err == nil {
			_ = p.Kill()
		}
	}
	for _, g := range Groups {
		errs = append(errs, removeGroup(g, g == freezeGroup || g == acctGroup))
	}
	return errors.Join(errs...)
}

// removeGroup deletes group (and the groups below it) in every hierarchy.
// The lab's own processes in it (probes, the workloads Solve and Setup
// start) are killed; so is everything when killAll is set (the freeze and
// accounting groups hold only workloads). Any other process, a student's
// shell for instance, is moved to the parent group first, since the
// kernel refuses to remove a group that has processes. A group that is
// not there is fine.
func removeGroup(group string, killAll bool) error {
	h, err := detect()
	if err != nil {
		return nil // no cgroups at all: nothing of ours can be there
	}
	host := os.DirFS("/")
	found := false
	for _, c := range []string{cgroup.Memory, cgroup.CPU, cgroup.CPUAcct, cgroup.Pids, cgroup.Freezer} {
		if h.Exists(host, c, group) {
			found = true
		}
	}
	if !found {
		return nil
	}
	keep := func(pid int) bool { return !killAll && !isLabProcess(pid) }
	var errs []error
	for _, c := range []string{cgroup.Freezer, cgroup.Memory, cgroup.CPU, cgroup.CPUAcct, cgroup.Pids} {
		if h.Version == cgroup.V2 && c != cgroup.Freezer {
			break // one tree: once is enough
		}
		if err := h.KillAll(group, c, keep); err != nil {
			errs = append(errs, err)
		}
	}
	if err := h.Evacuate(group, func(int) bool { return true }); err != nil {
		errs = append(errs, err)
	}
	if err := h.Delete(group); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// probePrefix starts argv[0] of every process this lab re-executes.
const probePrefix = reexec.Prefix + "cgroup-"

// isLabProcess reports whether pid is one of the lab's probes or
// workloads, by its argv[0] (see kernel/reexec).
func isLabProcess(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return false
	}
	argv0, _, _ := strings.Cut(string(b), "\x00")
	return strings.HasPrefix(argv0, probePrefix)
}

// labProcesses lists the PIDs of the lab's probes and workloads.
func labProcesses() []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err == nil && pid != os.Getpid() && isLabProcess(pid) {
			out = append(out, pid)
		}
	}
	return out
}

// groupCheck passes when group exists in the hierarchy of controller. Its
// failure names the directory and lists the lab-named groups that do
// exist there, which catches typos and groups made in the wrong tree.
func groupCheck(h cgroup.Hierarchy, fsys fs.FS, controller, group string) checker.Result {
	name := "group " + group + " exists"
	dir := h.Dir(controller, group)
	if h.Exists(fsys, controller, group) {
		return checker.Passed(name, dir)
	}
	found := h.Find(fsys, controller, "lab", 3)
	what := "nothing named lab*"
	if len(found) > 0 {
		what = "only " + strings.Join(found, ", ")
	}
	return checker.Result{
		Name: name, Status: checker.Fail, Expected: dir, Found: what,
		Reason: fmt.Sprintf("no directory %s (%s); found %s there", dir, h.Version, what),
		Hint:   "create it: mkdir " + dir,
	}
}

// hostHierarchy is detect as a checker result.
func hostHierarchy(name string) (cgroup.Hierarchy, *checker.Result) {
	h, err := detect()
	if err != nil {
		r := checker.Skipped(name, err.Error(), "this lab needs a Linux host with cgroups mounted at /sys/fs/cgroup")
		return h, &r
	}
	return h, nil
}

// needRoot skips a check whose probe must move itself into a group:
// writing to cgroup.procs of a group root made takes root.
func needRoot(name string) *checker.Result {
	if os.Geteuid() == 0 {
		return nil
	}
	r := checker.Skipped(name, "the probe must join a cgroup, which needs root",
		"run with sudo: sudo lab check")
	return &r
}

// mib formats bytes as MiB, or KiB below one MiB.
func mib(b uint64) string {
	if b < 1<<20 {
		return fmt.Sprintf("%g KiB", float64(b)/(1<<10))
	}
	return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
}
