package cgroupslab

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/kernel/cgroup"
	"github.com/lab-edu/lab/steps"
)

// memLimit is the limit the lesson asks for: 64 MiB.
const memLimit = 64 << 20

// MemoryLimit: make lab-mem with a 64 MiB memory limit.
var MemoryLimit = steps.Step{
	ID:    "cgroups/memory-limit",
	Title: "Create a group with a 64 MiB memory limit",
	Check: checkMemoryLimit,
	Solve: func(ctx context.Context, env *steps.Env) error {
		h, err := detect()
		if err != nil {
			return err
		}
		return h.Create(memGroup, cgroup.Resources{MemoryMax: cgroup.Ptr[int64](memLimit)}, cgroup.Memory)
	},
	Cleanup: func(ctx context.Context, env *steps.Env) error { return removeGroup(memGroup, false) },
}

func checkMemoryLimit(ctx context.Context, host checker.Host) checker.Result {
	const name = "memory limit of lab-mem"
	h, skip := hostHierarchy(name)
	if skip != nil {
		return *skip
	}
	fsys := host.FS()
	if r := groupCheck(h, fsys, cgroup.Memory, memGroup); !r.OK() {
		return r
	}
	file := h.Path(cgroup.MemoryLimit, memGroup)
	limit, err := h.ReadMemoryLimit(fsys, memGroup)
	if err != nil {
		if h.Version == cgroup.V2 {
			return checker.Failed(name, fmt.Sprintf("%s: %v", file, err),
				"the memory controller is not enabled for the group: echo +memory > "+h.Root+"/cgroup.subtree_control")
		}
		return checker.Errored(name, err)
	}
	if !limit.Max && limit.Value == memLimit {
		return checker.Passed(name, fmt.Sprintf("%s = %d (64 MiB)", file, limit.Value))
	}
	r := checker.Mismatch(name, fmt.Sprintf("%s = %d (64 MiB)", file, memLimit), fmt.Sprintf("%s = %s", file, limit),
		"echo 64M > "+file)
	if limit.Max {
		// A limit set, but on another group, is the usual mistake.
		if other := groupWithMemLimit(h, fsys); other != "" {
			r.Reason += fmt.Sprintf(" (no limit); the 64 MiB limit is on %s instead", h.Path(cgroup.MemoryLimit, other))
			r.Hint = "set it on lab-mem itself: echo 64M > " + file
		} else {
			r.Reason += " (no limit)"
		}
	} else {
		r.Reason += " (" + mib(limit.Value) + ")"
	}
	return r
}

// groupWithMemLimit finds another lab-named group that has the 64 MiB limit.
func groupWithMemLimit(h cgroup.Hierarchy, fsys fs.FS) string {
	for _, g := range h.Find(fsys, cgroup.Memory, "lab", 3) {
		if g == memGroup {
			continue
		}
		if l, err := h.ReadMemoryLimit(fsys, g); err == nil && !l.Max && l.Value == memLimit {
			return g
		}
	}
	return ""
}

// OOM: no swap escape, then the OOM killer fires in lab-mem.
var OOM = steps.Step{
	ID:    "cgroups/oom",
	Title: "Make the OOM killer fire inside the group",
	Setup: MemoryLimit.Solve,
	Check: checker.All("OOM kill in lab-mem", checkMemoryLimit, checkNoSwap, checkOOMKill),
	Solve: func(ctx context.Context, env *steps.Env) error {
		h, err := detect()
		if err != nil {
			return err
		}
		if !h.Exists(os.DirFS("/"), cgroup.Memory, memGroup) {
			if err := MemoryLimit.Solve(ctx, env); err != nil {
				return err
			}
		}
		if !hasSwapFile(h, os.DirFS("/")) {
			return nil // no swap accounting: nothing to forbid
		}
		return h.Update(memGroup, cgroup.Resources{MemoryMax: cgroup.Ptr[int64](memLimit), SwapMax: cgroup.Ptr[int64](0)})
	},
	Cleanup: func(ctx context.Context, env *steps.Env) error { return removeGroup(memGroup, false) },
}

func hasSwapFile(h cgroup.Hierarchy, fsys fs.FS) bool {
	_, err := fs.Stat(fsys, strings.TrimPrefix(h.Path(cgroup.SwapLimit, memGroup), "/"))
	return err == nil
}

// checkNoSwap: with swap, a group over its memory limit is swapped out
// rather than killed; the swap limit closes that door.
func checkNoSwap(ctx context.Context, host checker.Host) checker.Result {
	const name = "no swap for lab-mem"
	h, skip := hostHierarchy(name)
	if skip != nil {
		return *skip
	}
	fsys := host.FS()
	file := h.Path(cgroup.SwapLimit, memGroup)
	swap, err := h.ReadSwapLimit(fsys, memGroup)
	if err != nil {
		if !hasSwapFile(h, fsys) {
			// The kernel does not account swap per group (v1 without
			// swapaccount=1): only a machine without swap can pass.
			if !hostHasSwap(fsys) {
				return checker.Passed(name, file+" absent and the machine has no swap")
			}
			return checker.Skipped(name, file+" is missing but the machine has swap",
				"boot with swapaccount=1, or swapoff -a, to make the OOM step reliable")
		}
		return checker.Errored(name, err)
	}
	if h.Version == cgroup.V2 {
		if !swap.Max && swap.Value == 0 {
			return checker.Passed(name, file+" = 0")
		}
		return checker.Mismatch(name, file+" = 0", file+" = "+swap.String(),
			"echo 0 > "+file+": without it the kernel swaps the group out instead of killing")
	}
	// v1: memsw counts memory + swap, so memsw == limit means no swap.
	if !swap.Max && swap.Value == memLimit {
		return checker.Passed(name, fmt.Sprintf("%s = %d", file, swap.Value))
	}
	return checker.Mismatch(name, fmt.Sprintf("%s = %d (memory + swap = the memory limit: no swap)", file, memLimit),
		file+" = "+swap.String(), "echo 64M > "+file+" (after memory.limit_in_bytes: memsw may not be below it)")
}

func hostHasSwap(fsys fs.FS) bool {
	b, err := fs.ReadFile(fsys, "proc/swaps")
	return err == nil && len(strings.Split(strings.TrimSpace(string(b)), "\n")) > 1
}

// oomProbeTimeout bounds the OOM probe: touching 128 MiB takes well under
// a second; a group whose tasks are paused at the limit (v1
// oom_kill_disable) would otherwise hang it.
const oomProbeTimeout = 3 * time.Second

// checkOOMKill runs its own probe in lab-mem that touches twice the limit
// and must be killed by the OOM killer, which the group's oom_kill counter
// then shows.
func checkOOMKill(ctx context.Context, host checker.Host) checker.Result {
	const name = "the OOM killer fires in lab-mem"
	h, skip := hostHierarchy(name)
	if skip != nil {
		return *skip
	}
	if skip := needRoot(name); skip != nil {
		return *skip
	}
	fsys := host.FS()
	events := h.Path(cgroup.OOMEvents, memGroup)
	if off, err := h.ReadOOMKillDisabled(fsys, memGroup); err != nil {
		return checker.Errored(name, err)
	} else if off {
		return checker.Mismatch(name, events+": oom_kill_disable 0", events+": oom_kill_disable 1",
			"echo 0 > "+events+": with 1 the kernel pauses the group at its limit instead of killing")
	}
	limit, err := h.ReadMemoryLimit(fsys, memGroup)
	if err != nil {
		return checker.Errored(name, err)
	}
	before, err := h.ReadOOMKills(fsys, memGroup)
	if err != nil {
		return checker.Errored(name, err)
	}
	size := int64(2 * limit.Value)
	p, err := startProbe(entryOOM, memGroup, fmt.Sprint(size))
	if err != nil {
		return checker.Errored(name, err)
	}
	st, werr := p.wait(ctx, oomProbeTimeout)
	after, err := h.ReadOOMKills(fsys, memGroup)
	if err != nil {
		return checker.Errored(name, err)
	}
	if werr != nil {
		return checker.Failed(name, fmt.Sprintf("a probe touching %s in %s was neither killed nor done after %s (%s: oom_kill %d)",
			mib(uint64(size)), memGroup, oomProbeTimeout, events, after),
			"look at "+events+": under_oom 1 means the group is paused at its limit")
	}
	ws, _ := st.Sys().(syscall.WaitStatus)
	killed := ws.Signaled() && ws.Signal() == syscall.SIGKILL
	if killed && after > before {
		return checker.Passed(name, fmt.Sprintf("probe touching %s killed by SIGKILL; %s oom_kill %d -> %d",
			mib(uint64(size)), events, before, after))
	}
	if killed {
		return checker.Failed(name, fmt.Sprintf("the probe was killed but %s oom_kill stayed %d", events, after),
			"something else killed the probe; run lab check again")
	}
	if st.Success() {
		return checker.Failed(name, fmt.Sprintf("a probe touched %s in %s and was not killed (%s oom_kill %d)",
			mib(uint64(size)), memGroup, events, after),
			"the group can take more than its limit: is swap limited ("+h.Name(cgroup.SwapLimit)+")?")
	}
	return checker.Errored(name, fmt.Errorf("probe %s: %s: %s", entryOOM, st, strings.TrimSpace(p.stderr.String())))
}
