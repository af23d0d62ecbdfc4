package cgroupslab

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/kernel/cgroup"
	"github.com/lab-edu/lab/steps"
)

// The quota the lesson asks for: 20 ms of CPU time in every 100 ms period,
// 20% of one CPU.
const (
	cpuQuota  = 20000  // µs
	cpuPeriod = 100000 // µs
	cpuShare  = 0.20
)

// Throttling probe: it spins for burnFor, and may use at most
// maxBurnShare of one CPU in that time. 0.30 is the 20% quota plus 10
// points of tolerance: the first period can start with a full quota, the
// scheduler enforces the quota in slices (a few ms), and the probe's start
// and stop fall inside periods.
const (
	burnFor      = time.Second
	maxBurnShare = 0.30
)

// CPUQuota: lab-cpu may use 20% of one CPU.
var CPUQuota = steps.Step{
	ID:    "cgroups/cpu-quota",
	Title: "Limit a group to 20% of one CPU",
	Check: checker.All("CPU quota of lab-cpu", checkCPUQuota, checkThrottled),
	Solve: func(ctx context.Context, env *steps.Env) error {
		h, err := detect()
		if err != nil {
			return err
		}
		return h.Create(cpuGroup, cgroup.Resources{
			CPUQuota: cgroup.Ptr[int64](cpuQuota), CPUPeriod: cgroup.Ptr[uint64](cpuPeriod),
		}, cgroup.CPU)
	},
	Cleanup: func(ctx context.Context, env *steps.Env) error { return removeGroup(cpuGroup, false) },
}

func checkCPUQuota(ctx context.Context, host checker.Host) checker.Result {
	const name = "CPU quota of lab-cpu is 20%"
	h, skip := hostHierarchy(name)
	if skip != nil {
		return *skip
	}
	fsys := host.FS()
	if r := groupCheck(h, fsys, cgroup.CPU, cpuGroup); !r.OK() {
		return r
	}
	c, err := h.ReadCPUMax(fsys, cpuGroup)
	if err != nil {
		if h.Version == cgroup.V2 {
			return checker.Failed(name, err.Error(),
				"the cpu controller is not enabled for the group: echo +cpu > "+h.Root+"/cgroup.subtree_control")
		}
		return checker.Errored(name, err)
	}
	want, found := quotaText(h, cgroup.CPUMax{Quota: cpuQuota, Period: cpuPeriod}), quotaText(h, c)
	if c.Limited() && math.Abs(c.CPUs()-cpuShare) < 0.005 {
		return checker.Passed(name, found)
	}
	r := checker.Mismatch(name, want, found, "")
	switch {
	case !c.Limited():
		r.Reason += " (no quota)"
	default:
		r.Reason += fmt.Sprintf(": %.3g%% of one CPU, want 20%%", c.CPUs()*100)
	}
	if h.Version == cgroup.V2 {
		r.Hint = fmt.Sprintf("both numbers are microseconds: echo \"%d %d\" > %s", cpuQuota, cpuPeriod, h.Path(cgroup.CPUQuota, cpuGroup))
	} else {
		r.Hint = fmt.Sprintf("both are microseconds, not percent or ms: echo %d > %s; echo %d > %s",
			cpuPeriod, h.Path(cgroup.CPUPeriod, cpuGroup), cpuQuota, h.Path(cgroup.CPUQuota, cpuGroup))
	}
	return r
}

// quotaText shows a quota in the file names of the version.
func quotaText(h cgroup.Hierarchy, c cgroup.CPUMax) string {
	if h.Version == cgroup.V2 {
		return fmt.Sprintf("%s = %q", h.Path(cgroup.CPUQuota, cpuGroup), c.String())
	}
	q := c.Quota
	return fmt.Sprintf("%s = %d, %s = %d", h.Path(cgroup.CPUQuota, cpuGroup), q, h.Name(cgroup.CPUPeriod), c.Period)
}

// checkThrottled runs a probe that spins in lab-cpu for a second: it must
// get no more than maxBurnShare of a CPU, and cpu.stat must count
// throttled periods.
func checkThrottled(ctx context.Context, host checker.Host) checker.Result {
	const name = "a busy process in lab-cpu is throttled"
	h, skip := hostHierarchy(name)
	if skip != nil {
		return *skip
	}
	if skip := needRoot(name); skip != nil {
		return *skip
	}
	fsys := host.FS()
	stat := h.Path(cgroup.CPUStat, cpuGroup)
	before, err := h.ReadThrottling(fsys, cpuGroup)
	if err != nil {
		return checker.Errored(name, err)
	}
	var res burnResult
	if err := runProbe(ctx, burnFor+3*time.Second, &res, entryBurn, cpuGroup, burnFor.String()); err != nil {
		return checker.Errored(name, err)
	}
	after, err := h.ReadThrottling(fsys, cpuGroup)
	if err != nil {
		return checker.Errored(name, err)
	}
	share := float64(res.CPU) / float64(res.Wall)
	throttled := after.Throttled - before.Throttled
	evidence := fmt.Sprintf("probe got %s of CPU in %s (%.0f%%); %s nr_throttled +%d, throttled time +%s",
		res.CPU.Round(time.Millisecond), res.Wall.Round(time.Millisecond), share*100, stat, throttled,
		(after.Time - before.Time).Round(time.Millisecond))
	if share > maxBurnShare {
		return checker.Failed(name, evidence+fmt.Sprintf("; want at most %.0f%%", maxBurnShare*100),
			"the quota is not holding the group back: is it set on lab-cpu itself?")
	}
	if throttled == 0 {
		return checker.Failed(name, evidence+"; want nr_throttled to grow",
			"the probe was slow but not throttled by the quota: is the machine very busy? run lab check again")
	}
	return checker.Passed(name, evidence)
}
