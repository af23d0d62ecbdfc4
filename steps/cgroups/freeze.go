package cgroupslab

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/kernel/cgroup"
	"github.com/lab-edu/lab/steps"
)

// The freeze probe: how long it watches a spinning process, thawed then
// frozen then thawed again.
const (
	spinWatch = 150 * time.Millisecond
	spinFor   = 5 * time.Second // the spinner ends by itself after this
)

// Freeze: lab-freeze runs a process; freezing stops it, thawing resumes it.
var Freeze = steps.Step{
	ID:    "cgroups/freeze",
	Title: "Freeze a group with a running process, then thaw it",
	Check: checker.All("freezing lab-freeze", checkFreezeGroup, checkFreezeWorks),
	Solve: func(ctx context.Context, env *steps.Env) error {
		h, err := detect()
		if err != nil {
			return err
		}
		if err := h.Create(freezeGroup, cgroup.Resources{}, cgroup.Freezer); err != nil {
			return err
		}
		pid, err := startWorkload(entryHold, freezeGroup, cgroup.Freezer, "0", "0s")
		if err != nil {
			return err
		}
		if err := waitInGroup(h, cgroup.Freezer, freezeGroup, pid); err != nil {
			return err
		}
		fmt.Fprintf(env.Log, "process %d runs in %s\n", pid, h.Dir(cgroup.Freezer, freezeGroup))
		if err := h.Freeze(freezeGroup); err != nil {
			return err
		}
		return h.Thaw(freezeGroup)
	},
	Cleanup: func(ctx context.Context, env *steps.Env) error { return removeGroup(freezeGroup, true) },
}

// checkFreezeGroup: the group exists, has a live process, and is thawed.
func checkFreezeGroup(ctx context.Context, host checker.Host) checker.Result {
	const name = "lab-freeze has a running process and is thawed"
	h, skip := hostHierarchy(name)
	if skip != nil {
		return *skip
	}
	fsys := host.FS()
	if r := groupCheck(h, fsys, cgroup.Freezer, freezeGroup); !r.OK() {
		return r
	}
	procs := h.Path(cgroup.Procs(cgroup.Freezer), freezeGroup)
	pids, err := h.ReadProcs(fsys, cgroup.Freezer, freezeGroup)
	if err != nil {
		return checker.Errored(name, err)
	}
	if len(pids) == 0 {
		return checker.Mismatch(name, procs+" lists a process", procs+" is empty",
			"start a process and move it in: sleep 600 & echo $! > "+procs)
	}
	state, err := h.ReadFreezeState(fsys, freezeGroup)
	if err != nil {
		return checker.Errored(name, err)
	}
	file := h.Path(cgroup.FreezeState, freezeGroup)
	if state != cgroup.Thawed {
		thaw := "echo THAWED > " + file
		if h.Version == cgroup.V2 {
			thaw = "echo 0 > " + file
		}
		return checker.Mismatch(name, file+" "+thawedText(h), fmt.Sprintf("%s %s (%s)", file, frozenText(h, state), state),
			"you froze it: now thaw it: "+thaw)
	}
	return checker.Passed(name, fmt.Sprintf("%s: %v; %s %s", procs, pids, file, thawedText(h)))
}

func thawedText(h cgroup.Hierarchy) string {
	if h.Version == cgroup.V2 {
		return "= 0"
	}
	return "= THAWED"
}

func frozenText(h cgroup.Hierarchy, state string) string {
	if h.Version == cgroup.V2 {
		return "= 1"
	}
	return "= " + state
}

// checkFreezeWorks adds a spinning probe to the group, freezes the group,
// and measures that the probe gets no CPU time at all while frozen and
// gets some again once thawed. It leaves the group thawed, as it found it.
func checkFreezeWorks(ctx context.Context, host checker.Host) (r checker.Result) {
	const name = "freezing lab-freeze stops its processes"
	h, skip := hostHierarchy(name)
	if skip != nil {
		return *skip
	}
	if skip := needRoot(name); skip != nil {
		return *skip
	}
	fsys := host.FS()
	p, err := startProbe(entrySpin, freezeGroup, spinFor.String())
	if err != nil {
		return checker.Errored(name, err)
	}
	defer func() {
		if err := h.Thaw(freezeGroup); err != nil && r.OK() {
			r = checker.Errored(name, err)
		}
		p.kill()
	}()
	pid := p.cmd.Process.Pid
	if err := waitInGroup(h, cgroup.Freezer, freezeGroup, pid); err != nil {
		return checker.Errored(name, err)
	}
	run1, err := progress(fsys, pid, spinWatch)
	if err != nil {
		return checker.Errored(name, err)
	}
	if err := h.Freeze(freezeGroup); err != nil {
		return checker.Failed(name, err.Error(), "is "+h.Path(cgroup.FreezeState, freezeGroup)+" writable?")
	}
	frozen, err := progress(fsys, pid, spinWatch)
	if err != nil {
		return checker.Errored(name, err)
	}
	if err := h.Thaw(freezeGroup); err != nil {
		return checker.Errored(name, err)
	}
	run2, err := progress(fsys, pid, spinWatch)
	if err != nil {
		return checker.Errored(name, err)
	}
	evidence := fmt.Sprintf("a spinning probe got %s of CPU in %s running, %s frozen, %s thawed again",
		run1.Round(time.Millisecond), spinWatch, frozen, run2.Round(time.Millisecond))
	switch {
	case frozen > 0:
		return checker.Failed(name, evidence+": it kept running while frozen", "")
	case run2 == 0:
		return checker.Failed(name, evidence+": it did not run again after thawing", "")
	}
	return checker.Passed(name, evidence)
}

// progress is the CPU time pid gets during d: the sum of the first field
// of /proc/PID/task/*/schedstat (nanoseconds on CPU, per thread).
func progress(fsys fs.FS, pid int, d time.Duration) (time.Duration, error) {
	before, err := cpuTime(fsys, pid)
	if err != nil {
		return 0, err
	}
	time.Sleep(d)
	after, err := cpuTime(fsys, pid)
	return after - before, err
}

func cpuTime(fsys fs.FS, pid int) (time.Duration, error) {
	dir := "proc/" + strconv.Itoa(pid) + "/task"
	tasks, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", "/"+dir, err)
	}
	var total time.Duration
	for _, t := range tasks {
		b, err := fs.ReadFile(fsys, dir+"/"+t.Name()+"/schedstat")
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // the thread just ended
			}
			return 0, err
		}
		f := strings.Fields(string(b))
		if len(f) == 0 {
			continue
		}
		ns, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse /%s/%s/schedstat: %w", dir, t.Name(), err)
		}
		total += time.Duration(ns)
	}
	return total, nil
}
