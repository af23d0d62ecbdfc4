package cgroupslab

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/kernel/cgroup"
	"github.com/lab-edu/lab/steps"
)

// The accounting workload uses a random amount of memory and CPU, so the
// answer has to be read from the live group and cannot be guessed or
// copied from a neighbour.
const (
	acctMinMiB, acctMaxMiB = 24, 56
	acctMinCPU, acctMaxCPU = 200 * time.Millisecond, 600 * time.Millisecond
)

// Tolerances of the answer: memory may drift a little (the Go runtime of
// the workload, page cache); CPU time is rounded by the learner.
const (
	memTolerance    = 0.10                  // ±10%
	memToleranceMin = 2 << 20               // or ±2 MiB
	cpuTolerance    = 0.15                  // ±15%
	cpuToleranceMin = 50 * time.Millisecond // or ±50 ms
)

const acctID = "cgroups/accounting"

var acctQuiz = &steps.Quiz{Ask: askAccounting, Grade: gradeAccounting, Solution: solveAccounting}

// Accounting: read lab-acct's memory and CPU usage.
var Accounting = steps.Step{
	ID:      acctID,
	Title:   "Read a group's memory and CPU accounting",
	Setup:   setupAccounting,
	Quiz:    acctQuiz,
	Solve:   steps.SolveQuiz(acctID, acctQuiz),
	Cleanup: cleanupAccounting,
}

func acctControllers(h cgroup.Hierarchy) []string {
	if h.Version == cgroup.V2 {
		return []string{cgroup.Memory}
	}
	return []string{cgroup.Memory, cgroup.CPUAcct}
}

// setupAccounting makes lab-acct and starts, detached, a workload in it
// that burns a random amount of CPU, then touches a random amount of
// memory and holds it.
func setupAccounting(ctx context.Context, env *steps.Env) error {
	h, err := detect()
	if err != nil {
		return err
	}
	if err := removeGroup(acctGroup, true); err != nil {
		return err
	}
	controllers := acctControllers(h)
	if err := h.Create(acctGroup, cgroup.Resources{}, controllers...); err != nil {
		return err
	}
	size := int64(acctMinMiB+rand.IntN(acctMaxMiB-acctMinMiB+1)) << 20
	cpu := acctMinCPU + time.Duration(rand.Int64N(int64(acctMaxCPU-acctMinCPU)))
	cpu = cpu.Round(time.Millisecond)
	pid, err := startWorkload(entryHold, acctGroup, strings.Join(controllers, ","), fmt.Sprint(size), cpu.String())
	if err != nil {
		return err
	}
	// Wait until the workload is done working: its memory is charged.
	host := os.DirFS("/")
	deadline := time.Now().Add(5 * time.Second)
	for {
		mem, _ := h.ReadMemoryUsage(host, acctGroup)
		if mem >= uint64(size) {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("workload %d in %s: %s charged after 5s, want %s", pid, acctGroup, mib(mem), mib(uint64(size)))
		}
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Fprintf(env.Log, "a process in %s used some CPU and holds some memory\n", acctGroup)
	return nil
}

func cleanupAccounting(ctx context.Context, env *steps.Env) error {
	return errors.Join(steps.ClearQuiz(acctID)(ctx, env), removeGroup(acctGroup, true))
}

// usage reads what lab-acct uses now.
func usage(fsys fs.FS) (h cgroup.Hierarchy, mem uint64, cpu time.Duration, err error) {
	h, err = detect()
	if err != nil {
		return h, 0, 0, err
	}
	if !h.Exists(fsys, cgroup.Memory, acctGroup) {
		return h, 0, 0, fmt.Errorf("no group %s: run `lab goto %s` to set the step up again", h.Dir(cgroup.Memory, acctGroup), acctID)
	}
	if mem, err = h.ReadMemoryUsage(fsys, acctGroup); err != nil {
		return h, 0, 0, err
	}
	cpu, err = h.ReadCPUUsage(fsys, acctGroup)
	return h, mem, cpu, err
}

func askAccounting(ctx context.Context, host checker.Host) (steps.Question, error) {
	h, _, _, err := usage(host.FS())
	if err != nil {
		return steps.Question{}, err
	}
	cpuFile := h.Path(cgroup.CPUUsage, acctGroup) + " (nanoseconds)"
	if h.Version == cgroup.V2 {
		cpuFile = "usage_usec of " + h.Path(cgroup.CPUUsage, acctGroup) + " (microseconds)"
	}
	return steps.Question{Text: fmt.Sprintf(
		"A process in %s used some CPU, then allocated memory and holds it. How much memory does the group use "+
			"now, in MiB (%s, in bytes), and how much CPU time has it used, in milliseconds (%s)? "+
			"Answer with the two numbers, MiB then ms, for example: 30 250",
		acctGroup, h.Path(cgroup.MemoryUsage, acctGroup), cpuFile)}, nil
}

func solveAccounting(ctx context.Context, host checker.Host) (string, error) {
	_, mem, cpu, err := usage(host.FS())
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d %d", int(math.Round(float64(mem)/(1<<20))), cpu.Milliseconds()), nil
}

func gradeAccounting(ctx context.Context, host checker.Host, answer string) checker.Result {
	const name = "lab-acct usage"
	f := strings.Fields(strings.NewReplacer(",", " ", "MiB", " ", "ms", " ").Replace(answer))
	if len(f) != 2 {
		return checker.Failed(name, fmt.Sprintf("answer %q is not two numbers", answer),
			"answer with MiB then milliseconds, for example: --answer \"30 250\"")
	}
	gotMiB, err1 := strconv.ParseFloat(f[0], 64)
	gotMs, err2 := strconv.ParseFloat(f[1], 64)
	if err1 != nil || err2 != nil {
		return checker.Failed(name, fmt.Sprintf("answer %q is not two numbers", answer),
			"answer with MiB then milliseconds, for example: --answer \"30 250\"")
	}
	h, mem, cpu, err := usage(host.FS())
	if err != nil {
		return checker.Errored(name, err)
	}
	memFile, cpuFile := h.Path(cgroup.MemoryUsage, acctGroup), h.Path(cgroup.CPUUsage, acctGroup)
	gotMem := gotMiB * (1 << 20)
	if math.Abs(gotMem-float64(mem)) > math.Max(memTolerance*float64(mem), memToleranceMin) {
		return checker.Failed(name, fmt.Sprintf("%g MiB is not what %s says (within 10%%)", gotMiB, memFile),
			"read the file: cat "+memFile+", and divide by 1048576")
	}
	gotCPU := time.Duration(gotMs * float64(time.Millisecond))
	if math.Abs(float64(gotCPU-cpu)) > math.Max(cpuTolerance*float64(cpu), float64(cpuToleranceMin)) {
		unit := "nanoseconds: divide by 1000000"
		if h.Version == cgroup.V2 {
			unit = "microseconds (usage_usec): divide by 1000"
		}
		return checker.Failed(name, fmt.Sprintf("%g ms is not what %s says (within 15%%)", gotMs, cpuFile),
			"read the file: cat "+cpuFile+"; it counts "+unit)
	}
	return checker.Passed(name, fmt.Sprintf("answered %g MiB and %g ms; %s = %d, CPU %s", gotMiB, gotMs, memFile, mem, cpu))
}
