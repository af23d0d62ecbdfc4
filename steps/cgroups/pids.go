package cgroupslab

import (
	"context"
	"fmt"
	"time"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/kernel/cgroup"
	"github.com/lab-edu/lab/steps"
)

// pidsLimit is the limit the lesson asks for; any limit up to
// maxPidsLimit passes, since the probe's bomb (bombSize forks) must hit it.
const (
	pidsLimit    = 20
	maxPidsLimit = 100
	bombSize     = 200
)

// PidsLimit: lab-pids allows at most 20 tasks, and a fork bomb stops there.
var PidsLimit = steps.Step{
	ID:    "cgroups/pids",
	Title: "Stop a fork bomb with a pids limit",
	Check: checker.All("pids limit of lab-pids", checkPidsMax, checkForkRefused),
	Solve: func(ctx context.Context, env *steps.Env) error {
		h, err := detect()
		if err != nil {
			return err
		}
		return h.Create(pidsGroup, cgroup.Resources{PidsMax: cgroup.Ptr[int64](pidsLimit)}, cgroup.Pids)
	},
	Cleanup: func(ctx context.Context, env *steps.Env) error { return removeGroup(pidsGroup, false) },
}

func checkPidsMax(ctx context.Context, host checker.Host) checker.Result {
	const name = "pids.max of lab-pids"
	h, skip := hostHierarchy(name)
	if skip != nil {
		return *skip
	}
	fsys := host.FS()
	if r := groupCheck(h, fsys, cgroup.Pids, pidsGroup); !r.OK() {
		return r
	}
	file := h.Path(cgroup.PidsMax, pidsGroup)
	l, err := h.ReadPidsMax(fsys, pidsGroup)
	if err != nil {
		if h.Version == cgroup.V2 {
			return checker.Failed(name, err.Error(),
				"the pids controller is not enabled for the group: echo +pids > "+h.Root+"/cgroup.subtree_control")
		}
		return checker.Errored(name, err)
	}
	if !l.Max && l.Value >= 1 && l.Value <= maxPidsLimit {
		return checker.Passed(name, fmt.Sprintf("%s = %d", file, l.Value))
	}
	return checker.Mismatch(name, fmt.Sprintf("%s = %d (any limit from 1 to %d)", file, pidsLimit, maxPidsLimit),
		file+" = "+l.String(), fmt.Sprintf("echo %d > %s", pidsLimit, file))
}

// checkForkRefused runs a bounded fork bomb in lab-pids: a fork must fail
// (EAGAIN) before bombSize, and pids.events must count the refusal.
func checkForkRefused(ctx context.Context, host checker.Host) checker.Result {
	const name = "a fork bomb in lab-pids is stopped"
	h, skip := hostHierarchy(name)
	if skip != nil {
		return *skip
	}
	if skip := needRoot(name); skip != nil {
		return *skip
	}
	fsys := host.FS()
	events := h.Path(cgroup.PidsEvents, pidsGroup)
	before, err := h.ReadPidsRefused(fsys, pidsGroup)
	if err != nil {
		return checker.Errored(name, err)
	}
	var res cgroup.ForkResult
	if err := runProbe(ctx, 3*time.Second, &res, entryFork, pidsGroup, fmt.Sprint(bombSize)); err != nil {
		return checker.Errored(name, err)
	}
	after, err := h.ReadPidsRefused(fsys, pidsGroup)
	if err != nil {
		return checker.Errored(name, err)
	}
	evidence := fmt.Sprintf("the probe (%d threads) forked %d children", res.Tasks, res.Forked)
	if !res.Refused {
		return checker.Failed(name, evidence+" and no fork failed", "set a limit in "+h.Name(cgroup.PidsMax))
	}
	evidence += fmt.Sprintf(", then fork failed with %s; %s max %d -> %d", res.Errno, events, before, after)
	if res.Errno != "EAGAIN" || after <= before {
		return checker.Failed(name, evidence+"; want EAGAIN counted in "+h.Name(cgroup.PidsEvents),
			"the fork was refused by something other than pids.max (ulimit -u?)")
	}
	return checker.Passed(name, evidence)
}
