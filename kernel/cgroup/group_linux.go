package cgroup

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	cgroups "github.com/containerd/cgroups/v3"
	"github.com/containerd/cgroups/v3/cgroup1"
	"github.com/containerd/cgroups/v3/cgroup2"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Detect returns the hierarchy this machine uses. containerd's Mode
// statfs(2)s /sys/fs/cgroup: CGROUP2_SUPER_MAGIC there means unified (v2);
// a tmpfs of v1 mounts, with or without a cgroup2 at .../unified, means
// v1 (legacy or hybrid: the controllers are in the v1 trees).
func Detect() (Hierarchy, error) {
	switch cgroups.Mode() {
	case cgroups.Unified:
		return Hierarchy{Version: V2, Root: DefaultRoot}, nil
	case cgroups.Legacy, cgroups.Hybrid:
		return Hierarchy{Version: V1, Root: DefaultRoot}, nil
	}
	return Hierarchy{}, errors.New("cgroup: no cgroup filesystem mounted at " + DefaultRoot)
}

// IsCgroup2 reports whether dir is the root of a cgroup2 mount
// (statfs f_type CGROUP2_SUPER_MAGIC).
func IsCgroup2(dir string) bool {
	var st unix.Statfs_t
	return unix.Statfs(dir, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC
}

func (r Resources) v1() *specs.LinuxResources {
	s := &specs.LinuxResources{}
	if r.MemoryMax != nil || r.SwapMax != nil {
		s.Memory = &specs.LinuxMemory{Limit: r.MemoryMax}
		if r.SwapMax != nil && r.MemoryMax != nil {
			s.Memory.Swap = Ptr(*r.MemoryMax + *r.SwapMax) // memsw is memory + swap
		}
	}
	if r.CPUQuota != nil || r.CPUPeriod != nil || r.CPUWeight != nil {
		s.CPU = &specs.LinuxCPU{Quota: r.CPUQuota, Period: r.CPUPeriod}
		if r.CPUWeight != nil {
			s.CPU.Shares = Ptr(WeightToShares(*r.CPUWeight))
		}
	}
	if r.PidsMax != nil {
		s.Pids = &specs.LinuxPids{Limit: r.PidsMax}
	}
	if r.CPUs != "" {
		if s.CPU == nil {
			s.CPU = &specs.LinuxCPU{}
		}
		s.CPU.Cpus = r.CPUs
	}
	return s
}

func (r Resources) v2() *cgroup2.Resources {
	s := &cgroup2.Resources{}
	if r.MemoryMax != nil || r.SwapMax != nil {
		s.Memory = &cgroup2.Memory{Max: r.MemoryMax, Swap: r.SwapMax}
	}
	if r.CPUQuota != nil || r.CPUPeriod != nil || r.CPUWeight != nil {
		s.CPU = &cgroup2.CPU{Weight: r.CPUWeight}
		if r.CPUQuota != nil || r.CPUPeriod != nil {
			s.CPU.Max = cgroup2.NewCPUMax(r.CPUQuota, r.CPUPeriod)
		}
	}
	if r.PidsMax != nil {
		s.Pids = &cgroup2.Pids{Max: *r.PidsMax}
	}
	if r.CPUs != "" {
		if s.CPU == nil {
			s.CPU = &cgroup2.CPU{}
		}
		s.CPU.Cpus = r.CPUs // containerd then enables cpuset too
	}
	return s
}

// subsystems is a containerd cgroup1 hierarchy limited to the lab's
// controllers, so a group is made only where it is asked for (containerd's
// default makes it in every v1 hierarchy, systemd's included).
func (h Hierarchy) subsystems(controllers []string) cgroup1.Hierarchy {
	return func() ([]cgroup1.Subsystem, error) {
		var out []cgroup1.Subsystem
		for _, c := range controllers {
			switch c {
			case Memory:
				out = append(out, cgroup1.NewMemory(h.Root))
			case CPU:
				out = append(out, cgroup1.NewCpu(h.Root))
			case CPUAcct:
				out = append(out, cgroup1.NewCpuacct(h.Root))
			case Pids:
				out = append(out, cgroup1.NewPids(h.Root))
			case Freezer:
				out = append(out, cgroup1.NewFreezer(h.Root))
			case Cpuset:
				out = append(out, cgroup1.NewCpuset(h.Root))
			default:
				return nil, fmt.Errorf("cgroup: controller %q is not one the lab uses", c)
			}
		}
		return out, nil
	}
}

// Create makes group in the hierarchies of controllers (v1) or in the one
// tree with those controllers enabled for it (v2: "+memory" and so on in
// the parents' cgroup.subtree_control), then sets r. It is what
// `mkdir /sys/fs/cgroup/memory/lab-mem; echo 64M > .../memory.limit_in_bytes`
// does. Controllers needed by r are added to controllers.
func (h Hierarchy) Create(group string, r Resources, controllers ...string) error {
	for _, c := range r.controllersOf() {
		if !slices.Contains(controllers, c) {
			controllers = append(controllers, c)
		}
	}
	if h.Version == V1 {
		_, err := cgroup1.New(cgroup1.StaticPath("/"+strings.Trim(group, "/")), r.v1(),
			cgroup1.WithHierarchy(h.subsystems(controllers)))
		if err != nil {
			return fmt.Errorf("create group %s (%s): %w", group, h.Version, err)
		}
		return nil
	}
	m, err := cgroup2.NewManager(h.Root, "/"+strings.Trim(group, "/"), r.v2())
	if err != nil {
		return fmt.Errorf("create group %s (%s): %w", group, h.Version, err)
	}
	// Freezing is core to v2 (cgroup.freeze), and cpu.stat's usage is
	// always there; other controllers must be enabled in the parent.
	var enable []string
	for _, c := range controllers {
		if c == Memory || c == CPU || c == Pids || c == Cpuset {
			enable = append(enable, c)
		}
	}
	if len(enable) > 0 {
		if err := m.ToggleControllers(enable, cgroup2.Enable); err != nil {
			return fmt.Errorf("create group %s (%s): enable %s: %w", group, h.Version, strings.Join(enable, " "), err)
		}
	}
	return nil
}

// Update sets r on an existing group.
func (h Hierarchy) Update(group string, r Resources) error {
	if h.Version == V1 {
		cg, err := h.load(group, r.controllersOf())
		if err != nil {
			return err
		}
		if err := cg.Update(r.v1()); err != nil {
			return fmt.Errorf("update group %s (%s): %w", group, h.Version, err)
		}
		return nil
	}
	m, err := cgroup2.Load("/"+strings.Trim(group, "/"), cgroup2.WithMountpoint(h.Root))
	if err != nil {
		return fmt.Errorf("load group %s (%s): %w", group, h.Version, err)
	}
	if err := m.Update(r.v2()); err != nil {
		return fmt.Errorf("update group %s (%s): %w", group, h.Version, err)
	}
	return nil
}

// load opens a v1 group in those of controllers' hierarchies where it
// exists (all the lab's when controllers is empty).
func (h Hierarchy) load(group string, controllers []string) (cgroup1.Cgroup, error) {
	if len(controllers) == 0 {
		controllers = h.controllers()
	}
	cg, err := cgroup1.Load(cgroup1.StaticPath("/"+strings.Trim(group, "/")),
		cgroup1.WithHierarchy(h.subsystems(controllers)))
	if err != nil {
		return nil, fmt.Errorf("load group %s (%s): %w", group, h.Version, err)
	}
	return cg, nil
}

// Add moves process pid, with all its threads, into group: it writes the
// PID to cgroup.procs of every hierarchy the group exists in (v1: of
// controllers only, when given). Equivalent to: echo PID > .../cgroup.procs
func (h Hierarchy) Add(group string, pid int, controllers ...string) error {
	if h.Version == V1 {
		cg, err := h.load(group, controllers)
		if err != nil {
			return err
		}
		if err := cg.AddProc(uint64(pid)); err != nil {
			return fmt.Errorf("add %d to %s: %s: %w", pid, group, h.Label(Procs("")), err)
		}
		return nil
	}
	m, err := cgroup2.Load("/"+strings.Trim(group, "/"), cgroup2.WithMountpoint(h.Root))
	if err != nil {
		return fmt.Errorf("load group %s (%s): %w", group, h.Version, err)
	}
	if err := m.AddProc(uint64(pid)); err != nil {
		return fmt.Errorf("add %d to %s: %s: %w", pid, group, h.Label(Procs("")), err)
	}
	return nil
}

// Join moves the calling process into group (cgroup.procs), for a probe
// that must run inside the group from its first allocation or fork.
func (h Hierarchy) Join(group string, controllers ...string) error {
	return h.Add(group, os.Getpid(), controllers...)
}

// freezeTimeout bounds how long Freeze and Thaw wait for the kernel to
// report the new state.
const freezeTimeout = 2 * time.Second

// Freeze stops every task of group: v1 writes FROZEN to freezer.state, v2
// writes 1 to cgroup.freeze; both then wait for the kernel to report the
// group frozen (v1 freezer.state FROZEN, v2 "frozen 1" in cgroup.events).
// Frozen tasks get no CPU time and cannot be woken, even by SIGKILL, until
// thawed.
func (h Hierarchy) Freeze(group string) error { return h.setFrozen(group, true) }

// Thaw lets a frozen group run again.
func (h Hierarchy) Thaw(group string) error { return h.setFrozen(group, false) }

func (h Hierarchy) setFrozen(group string, frozen bool) error {
	done := make(chan error, 1)
	go func() {
		if h.Version == V1 {
			cg, err := h.load(group, []string{Freezer})
			if err != nil {
				done <- err
				return
			}
			if frozen {
				done <- cg.Freeze()
			} else {
				done <- cg.Thaw()
			}
			return
		}
		m, err := cgroup2.Load("/"+strings.Trim(group, "/"), cgroup2.WithMountpoint(h.Root))
		if err != nil {
			done <- err
			return
		}
		if frozen {
			done <- m.Freeze()
		} else {
			done <- m.Thaw()
		}
	}()
	want := Thawed
	if frozen {
		want = Frozen
	}
	deadline := time.After(freezeTimeout)
	select {
	case err := <-done:
		if err != nil {
			return h.fileError(FreezeState, group, err)
		}
	case <-deadline:
		return h.fileError(FreezeState, group, fmt.Errorf("still not %s after %s", want, freezeTimeout))
	}
	// v2: cgroup.freeze is the request; cgroup.events "frozen" is the fact.
	host := os.DirFS("/")
	for {
		s, err := h.ReadFreezeState(host, group)
		if err != nil {
			return err
		}
		if s == want {
			return nil
		}
		select {
		case <-deadline:
			return h.fileError(FreezeState, group, fmt.Errorf("%s after %s, want %s", s, freezeTimeout, want))
		case <-time.After(time.Millisecond):
		}
	}
}

// Delete removes group and every group below it, deepest first, in every
// hierarchy it exists in (rmdir(2), which the kernel refuses with EBUSY
// while a group has processes: move or kill them first). A group that is
// not there is not an error, so Delete is idempotent.
func (h Hierarchy) Delete(group string) error {
	var errs []error
	for _, c := range h.controllers() {
		dir := h.Dir(c, group)
		var dirs []string
		_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		for i := len(dirs) - 1; i >= 0; i-- {
			if err := rmdirGroup(dirs[i]); err != nil && !errors.Is(err, unix.ENOENT) {
				errs = append(errs, fmt.Errorf("remove group %s: %w", dirs[i], &os.PathError{Op: "rmdir", Path: dirs[i], Err: err}))
			}
		}
	}
	return errors.Join(errs...)
}

// rmdirGroup removes one group directory. The kernel refuses (EBUSY)
// while a task is still charged to the group, and a process that was
// killed stays charged until its exit is complete and its parent (or init)
// has reaped it, some moments after it left cgroup.procs: retry for up to
// a second, slower and slower.
func rmdirGroup(dir string) error {
	wait := time.Millisecond
	for deadline := time.Now().Add(time.Second); ; {
		err := unix.Rmdir(dir)
		if !errors.Is(err, unix.EBUSY) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(wait)
		wait = min(2*wait, 50*time.Millisecond)
	}
}

// Evacuate moves every process of group and its descendants to the parent
// of group, in every hierarchy, so the groups can be removed without
// killing what a learner started there (a group with processes cannot be
// removed). move decides, per PID, whether the process is moved (true) or
// left where it is for the caller to kill (false).
func (h Hierarchy) Evacuate(group string, move func(pid int) bool) error {
	var errs []error
	parent := filepath.Dir("/" + strings.Trim(group, "/"))
	for _, c := range h.controllers() {
		dir := h.Dir(c, group)
		_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return nil
			}
			b, err := os.ReadFile(filepath.Join(p, "cgroup.procs"))
			if err != nil {
				return nil
			}
			for _, f := range strings.Fields(string(b)) {
				pid, err := strconv.Atoi(f)
				if err != nil || !move(pid) {
					continue
				}
				dst := filepath.Join(h.Dir(c, parent), "cgroup.procs")
				werr := os.WriteFile(dst, []byte(f), 0)
				if werr != nil && !errors.Is(werr, unix.ESRCH) {
					errs = append(errs, fmt.Errorf("move %d out of %s: %w", pid, p, werr))
				}
			}
			return nil
		})
	}
	return errors.Join(errs...)
}

// KillAll sends SIGKILL to every process of group and its descendants in
// the hierarchy of controller, thawing it first (a frozen task only dies
// once it runs again), and waits up to two seconds for the group to empty.
func (h Hierarchy) KillAll(group, controller string, keep func(pid int) bool) error {
	host := os.DirFS("/")
	if h.Exists(host, Freezer, group) || (h.Version == V2 && h.Exists(host, "", group)) {
		if s, err := h.ReadFreezeState(host, group); err == nil && s != Thawed {
			_ = h.Thaw(group)
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		pids := h.allProcs(controller, group)
		var left []int
		for _, pid := range pids {
			if keep != nil && keep(pid) {
				continue
			}
			left = append(left, pid)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("kill processes of %s: %v still there after 2s", h.Dir(controller, group), left)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// allProcs lists the PIDs of group and its descendants.
func (h Hierarchy) allProcs(controller, group string) []int {
	var out []int
	_ = filepath.WalkDir(h.Dir(controller, group), func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(filepath.Join(p, "cgroup.procs"))
		if err != nil {
			return nil
		}
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil {
				out = append(out, pid)
			}
		}
		return nil
	})
	return out
}
