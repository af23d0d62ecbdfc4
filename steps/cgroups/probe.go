package cgroupslab

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/lab-edu/lab/kernel/cgroup"
	"github.com/lab-edu/lab/kernel/reexec"
)

// The probes and workloads of this lab are the lab binary re-executed
// (kernel/reexec): a fresh process that first moves itself into the
// group (cgroup.procs), so everything it does from then on is charged to
// the group and limited by it. Each one is bounded in time.
const (
	entryOOM  = "cgroup-oom"  // GROUP BYTES: allocate and touch BYTES; expected to be OOM-killed
	entryBurn = "cgroup-burn" // GROUP DURATION: spin on one CPU, print CPU time used
	entryFork = "cgroup-fork" // GROUP MAX: bounded fork bomb, print what it saw
	entrySpin = "cgroup-spin" // GROUP DURATION: spin, so a freeze is visible as CPU time stopping
	entryHold = "cgroup-hold" // GROUP CONTROLLERS BYTES CPU: use CPU, hold memory, sleep
)

// holdFor bounds the life of a detached workload: even if nothing kills
// it, it ends by itself.
const holdFor = time.Hour

func init() {
	reexec.Register(entryOOM, func() {
		group, size := os.Args[1], atoi64(os.Args[2])
		join(group, cgroup.Memory)
		if _, err := cgroup.AllocMemory(size, nil); err != nil {
			fail(err)
		}
		fmt.Println(`{"survived":true}`)
		os.Exit(0)
	})
	reexec.Register(entryBurn, func() {
		group, d := os.Args[1], duration(os.Args[2])
		join(group, cgroup.CPU)
		start := time.Now()
		used, err := cgroup.BurnCPU(d)
		if err != nil {
			fail(err)
		}
		out(burnResult{CPU: used, Wall: time.Since(start)})
	})
	reexec.Register(entryFork, func() {
		group, max := os.Args[1], int(atoi64(os.Args[2]))
		join(group, cgroup.Pids)
		res, err := cgroup.ForkBomb(max)
		if err != nil {
			fail(err)
		}
		out(res)
	})
	reexec.Register(entrySpin, func() {
		group, d := os.Args[1], duration(os.Args[2])
		join(group, cgroup.Freezer)
		_, _ = cgroup.BurnCPU(d)
		os.Exit(0)
	})
	reexec.Register(entryHold, func() {
		group, controllers := os.Args[1], strings.Split(os.Args[2], ",")
		size, cpu := atoi64(os.Args[3]), duration(os.Args[4])
		join(group, controllers...)
		if cpu > 0 {
			_, _ = cgroup.BurnCPU(cpu)
		}
		var mem []byte
		if size > 0 {
			var err error
			if mem, err = cgroup.AllocMemory(size, nil); err != nil {
				fail(err)
			}
		}
		time.Sleep(holdFor)
		runtime.KeepAlive(mem) // the memory stays charged to the group until here
		os.Exit(0)
	})
}

func join(group string, controllers ...string) {
	h, err := cgroup.Detect()
	if err != nil {
		fail(err)
	}
	if err := h.Join(group, controllers...); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

func out(v any) {
	if err := json.NewEncoder(os.Stdout).Encode(v); err != nil {
		fail(err)
	}
	os.Exit(0)
}

func atoi64(s string) int64 {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		fail(fmt.Errorf("probe argument %q: %w", s, err))
	}
	return v
}

func duration(s string) time.Duration {
	d, err := time.ParseDuration(s)
	if err != nil {
		fail(fmt.Errorf("probe argument %q: %w", s, err))
	}
	return d
}

type burnResult struct {
	CPU  time.Duration `json:"cpu_ns"`
	Wall time.Duration `json:"wall_ns"`
}

// probe is a running probe process.
type probe struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
}

// startProbe starts entry with args as a child of the checker. It dies
// with the checker (parent-death signal) and Run kills it at its timeout.
func startProbe(entry string, args ...string) (*probe, error) {
	p := &probe{cmd: reexec.Command(entry, args...)}
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	p.cmd.SysProcAttr = probeAttr()
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start probe %s: %w", entry, err)
	}
	return p, nil
}

// wait waits for the probe to end, killing it after timeout, and returns
// how it ended. A probe never outlives this call.
func (p *probe) wait(ctx context.Context, timeout time.Duration) (*os.ProcessState, error) {
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			return nil, err
		}
		return p.cmd.ProcessState, nil
	case <-ctx.Done():
		_ = p.cmd.Process.Kill()
		<-done
		return p.cmd.ProcessState, fmt.Errorf("probe %s did not end within %s: killed", p.cmd.Args[0], timeout)
	}
}

// kill ends the probe now and reaps it.
func (p *probe) kill() {
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
}

// runProbe runs entry to its end (at most timeout) and decodes its JSON
// output into v.
func runProbe(ctx context.Context, timeout time.Duration, v any, entry string, args ...string) error {
	p, err := startProbe(entry, args...)
	if err != nil {
		return err
	}
	st, err := p.wait(ctx, timeout)
	if err != nil {
		return err
	}
	if !st.Success() {
		return fmt.Errorf("probe %s: %s: %s", entry, st, strings.TrimSpace(p.stderr.String()))
	}
	if err := json.Unmarshal(p.stdout.Bytes(), v); err != nil {
		return fmt.Errorf("probe %s output %q: %w", entry, p.stdout.String(), err)
	}
	return nil
}

// startWorkload starts entry detached, for a process that must outlive
// `lab solve` or `lab start`: a new session (setsid), stdio on /dev/null,
// not waited for. Cleanup finds it by its group, not by its PID.
func startWorkload(entry string, args ...string) (int, error) {
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return 0, err
	}
	defer null.Close()
	cmd := reexec.Command(entry, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = null, null, null
	cmd.SysProcAttr = workloadAttr()
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start %s: %w", entry, err)
	}
	pid := cmd.Process.Pid
	_ = cmd.Process.Release()
	return pid, nil
}

// waitInGroup waits up to two seconds for pid to appear in group's
// cgroup.procs (the workload moves itself in).
func waitInGroup(h cgroup.Hierarchy, controller, group string, pid int) error {
	host := os.DirFS("/")
	deadline := time.Now().Add(2 * time.Second)
	for {
		pids, _ := h.ReadProcs(host, controller, group)
		for _, p := range pids {
			if p == pid {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("process %d did not join %s within 2s", pid, h.Dir(controller, group))
		}
		time.Sleep(5 * time.Millisecond)
	}
}
