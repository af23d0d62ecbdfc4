package nslab

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/kernel/ns"
	"github.com/lab-edu/lab/kernel/procfs"
	"github.com/lab-edu/lab/steps"
)

const pidLab = "pid"

// PIDSteps are the pid lab's steps, in order.
var PIDSteps = []steps.Step{PIDInit, PIDNested, PIDInitDies}

// PIDInit: PID 1 of a new PID namespace, with its own /proc.
var PIDInit = steps.Step{
	ID:      "pid/init",
	Title:   "PID 1 of a new PID namespace, with its own /proc",
	Check:   checkPIDInit,
	Solve:   solvePIDInit,
	Cleanup: cleanupPID,
}

// pidProc is a marked process with its NSpid line.
type pidProc struct {
	proc
	NS    ns.ID
	NSpid []int
}

// pidProcs lists the processes started from the pid lab's workspace.
func pidProcs(fsys fs.FS, dir string) []pidProc {
	var out []pidProc
	for _, p := range marked(fsys, dir) {
		st, err := procfs.ReadStatus(fsys, p.PID)
		if err != nil {
			continue
		}
		id, err := ns.Of(fsys, p.PID, ns.PID)
		if err != nil {
			continue
		}
		out = append(out, pidProc{proc: p, NS: id, NSpid: st.NSpid})
	}
	return out
}

func nspid(ids []int) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(id)
	}
	return strings.Join(s, " ")
}

func checkPIDInit(ctx context.Context, h checker.Host) checker.Result {
	const name = "PID 1 of a new PID namespace, with its own /proc"
	fsys, dir := h.FS(), workDir(h, pidLab)
	host, err := ns.Host(fsys, ns.PID)
	if err != nil {
		return checker.Errored(name, err)
	}
	var inits []pidProc
	var noFork *pidProc
	for _, p := range pidProcs(fsys, dir) {
		if !p.NS.Equal(host) && len(p.NSpid) >= 2 && p.NSpid[len(p.NSpid)-1] == 1 {
			inits = append(inits, p)
		}
		if p.NS.Equal(host) && noFork == nil && childrenElsewhere(fsys, p.PID, host) {
			noFork = &p
		}
	}
	if len(inits) == 0 {
		if noFork != nil {
			return checker.Failed(name,
				fmt.Sprintf("%s made a new PID namespace but is not in it (NSpid: %s): without --fork, unshare runs the command in the old namespace and only its children go into the new one",
					noFork.proc, nspid(noFork.NSpid)),
				"exit it and run: cd "+dir+" && unshare --pid --fork --mount-proc bash")
		}
		return checker.Failed(name,
			"no process started from "+dir+" is PID 1 of a new PID namespace (no NSpid line ending in 1 outside the host's pid namespace)",
			"cd "+dir+" && unshare --pid --fork --mount-proc bash")
	}
	var first checker.Result
	for i, p := range inits {
		r := ownProc(fsys, p)
		if r.OK() {
			return r
		}
		if i == 0 {
			first = r
		}
	}
	return first
}

// ownProc checks that the /proc p sees belongs to p's PID namespace: the
// kernel resolves /proc/P/root/proc in P's mount namespace, and a procfs
// shows the PID namespace of whoever mounted it, so /proc/1 there must be
// p itself.
func ownProc(fsys fs.FS, p pidProc) checker.Result {
	const name = "PID 1 of a new PID namespace, with its own /proc"
	base := fmt.Sprintf("proc/%d/root/proc", p.PID)
	link, err := fs.ReadLink(fsys, base+"/1/ns/pid")
	if err == nil && strings.HasSuffix(link, fmt.Sprintf("[%d]", p.NS.Inode)) {
		if same, err := ns.SameAsHost(fsys, p.PID, ns.Mount); err == nil && same {
			return checker.Failed(name,
				fmt.Sprintf("%s is PID 1 of %s, and its proc is mounted in the host's mount namespace: it replaced the host's /proc", p.proc, p.NS),
				"umount /proc on the host, then use unshare --pid --fork --mount-proc (--mount-proc adds a mount namespace)")
		}
		var listed []int
		if root, err := fs.Sub(fsys, fmt.Sprintf("proc/%d/root", p.PID)); err == nil {
			listed, _ = procfs.Pids(root)
		}
		return checker.Passed(name,
			fmt.Sprintf("%s is PID 1 of %s (NSpid: %s)", p.proc, p.NS, nspid(p.NSpid)),
			fmt.Sprintf("its /proc is that namespace's: it lists %d processes: %s", len(listed), shortList(listed)))
	}
	comm, _ := fs.ReadFile(fsys, base+"/1/comm")
	what := "the host's init"
	if c := strings.TrimSpace(string(comm)); c != "" {
		what = c + ", " + what
	}
	return checker.Failed(name,
		fmt.Sprintf("%s is PID 1 of %s, but the /proc it sees is not that namespace's own: /proc/1 there is %s, so ps in it lists the host's processes", p.proc, p.NS, what),
		"mount a proc for the new namespace: unshare --pid --fork --mount-proc (or, in a new mount namespace, mount -t proc proc /proc)")
}

func shortList(pids []int) string {
	s := make([]string, 0, 8)
	for i, p := range pids {
		if i == 8 {
			s = append(s, "...")
			break
		}
		s = append(s, strconv.Itoa(p))
	}
	return strings.Join(s, " ")
}

func solvePIDInit(ctx context.Context, env *steps.Env) error {
	return startPIDHolder(ctx, env, 0)
}

// startPIDHolder starts a holder that is PID 1 of new PID and mount
// namespaces with its own /proc, and nest more levels below it. It waits
// until the deepest level exists.
func startPIDHolder(ctx context.Context, env *steps.Env, nest int) error {
	cmd := ns.HoldCommand(ns.Spec{New: []ns.Kind{ns.PID, ns.Mount}}, ns.HoldOptions{MountProc: true, Nest: nest})
	cmd.Dir = env.Dir
	pid, err := ns.StartDetached(cmd)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Log, "started PID %d as PID 1 of a new PID namespace\n", pid)
	fsys := env.Host.FS()
	return waitFor(ctx, func() bool {
		for _, p := range pidProcs(fsys, env.Dir) {
			if len(p.NSpid) == 2+nest && p.NSpid[len(p.NSpid)-1] == 1 && ownProc(fsys, p).OK() {
				return true
			}
		}
		return false
	})
}

// cleanupPID kills every process started from the workspace that is in
// another PID namespace or whose children go to one: killing a PID 1
// ends its whole namespace.
func cleanupPID(ctx context.Context, env *steps.Env) error {
	return errors.Join(ns.UnbindAll(env.Dir), killMarked(env.Dir, ns.PID))
}

// PIDNested: a process three PID namespaces deep.
var PIDNested = steps.Step{
	ID:      "pid/nested",
	Title:   "A PID namespace inside a PID namespace",
	Setup:   solvePIDInit,
	Check:   checkPIDNested,
	Solve:   func(ctx context.Context, env *steps.Env) error { return startPIDHolder(ctx, env, 1) },
	Cleanup: cleanupPID,
}

func checkPIDNested(ctx context.Context, h checker.Host) checker.Result {
	const name = "a process three PID namespaces deep"
	fsys, dir := h.FS(), workDir(h, pidLab)
	procs := pidProcs(fsys, dir)
	if len(procs) == 0 {
		return checker.Failed(name, "no process is running from "+dir,
			"cd "+dir+" && unshare --pid --fork --mount-proc sh -c 'unshare --pid --fork --mount-proc sh'")
	}
	deepest := slices.MaxFunc(procs, func(a, b pidProc) int { return len(a.NSpid) - len(b.NSpid) })
	if len(deepest.NSpid) >= 3 {
		return checker.Passed(name, fmt.Sprintf("%s has NSpid %s: one PID per namespace, from the host's down to its own", deepest.proc, nspid(deepest.NSpid)))
	}
	return checker.Mismatch(name, "a process with 3 PIDs on its NSpid line",
		fmt.Sprintf("at most %d (%s, NSpid: %s)", len(deepest.NSpid), deepest.proc, nspid(deepest.NSpid)),
		"inside the namespace's shell, run unshare --pid --fork --mount-proc again")
}

// PIDInitDies: what the kernel does when PID 1 of a namespace dies,
// observed live by the grader.
var PIDInitDies = steps.Step{
	ID:      "pid/init-dies",
	Title:   "When PID 1 dies",
	Quiz:    initDeathQuiz,
	Solve:   steps.SolveQuiz("pid/init-dies", initDeathQuiz),
	Cleanup: steps.ClearQuiz("pid/init-dies"),
}

var initDeathChoices = []string{
	"They are re-parented to the host's init and keep running",
	"The kernel kills every other process of the namespace, and creating a new process in it fails with ENOMEM (\"Cannot allocate memory\")",
	"The process with the lowest PID becomes the new PID 1",
	"Nothing visible: they keep running, without an init",
}

// observeInitDeath is the experiment; tests may swap it.
var observeInitDeath = func() (ns.InitDeath, error) { return ns.ObserveInitDeath(3 * time.Second) }

// observedChoice runs the experiment and returns the letter of the choice
// that describes what the kernel did, and the evidence.
func observedChoice() (string, []string, error) {
	d, err := observeInitDeath()
	if err != nil {
		return "", nil, fmt.Errorf("run the PID 1 experiment: %w", err)
	}
	evidence := []string{
		fmt.Sprintf("observed: PID 1 (host PID %d) was killed; PID 2 (host PID %d) %s", d.InitPID, d.OtherPID, map[bool]string{true: "was killed too (" + d.OtherSignal + ")", false: "kept running"}[d.OtherKilled]),
		"starting a new process in the namespace then returned: " + d.ForkErr,
	}
	switch {
	case d.OtherKilled && d.ForkENOMEM:
		return steps.Letter(1), evidence, nil
	case !d.OtherKilled:
		return steps.Letter(3), evidence, nil
	}
	return "", evidence, fmt.Errorf("the kernel did something the lesson does not describe: %s", strings.Join(evidence, "; "))
}

var initDeathQuiz = &steps.Quiz{
	Ask: func(context.Context, checker.Host) (steps.Question, error) {
		return steps.Question{
			Text:    "PID 1 of a PID namespace is killed while two other processes still run in that namespace. What does the kernel do?",
			Choices: initDeathChoices,
		}, nil
	},
	Grade: func(ctx context.Context, h checker.Host, answer string) checker.Result {
		const name = "what happens when PID 1 dies"
		want, evidence, err := observedChoice()
		if err != nil {
			return checker.Errored(name, err)
		}
		got := strings.ToLower(strings.TrimSpace(answer))
		if got == "" || len(got) != 1 || got[0] < 'a' || int(got[0]-'a') >= len(initDeathChoices) {
			return checker.Failed(name, fmt.Sprintf("answer %q is not one of a-%s", answer, steps.Letter(len(initDeathChoices)-1)),
				"answer with one letter, for example --answer a")
		}
		if got != want {
			return checker.Failed(name, "answer "+got+" is not what the kernel does: the checker just tried it",
				"run the experiment of the Task section and watch the other sleep")
		}
		return checker.Passed(name, evidence...)
	},
	Solution: func(context.Context, checker.Host) (string, error) {
		want, _, err := observedChoice()
		return want, err
	},
}

// childrenElsewhere reports whether pid's next children go to another PID
// namespace than host: what `unshare --pid` without --fork leaves. Until
// that namespace has its PID 1, the kernel hides the link
// (/proc/PID/ns/pid_for_children reads ENOENT) while /proc/PID/ns/pid
// still reads.
func childrenElsewhere(fsys fs.FS, pid int, host ns.ID) bool {
	c, err := ns.ForChildren(fsys, pid)
	if err == nil {
		return !c.Equal(host)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return false
	}
	_, perr := ns.Of(fsys, pid, ns.PID)
	return perr == nil
}
