package nslab

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/kernel/ns"
	"github.com/lab-edu/lab/kernel/procfs"
	"github.com/lab-edu/lab/steps"
)

const ipcLab = "ipc"

// IPCKey is the message queue key the reference solution uses ("1ab" for
// lab). ipcmk picks random keys, so the student's queue has another one;
// Reset removes a queue with this key from the host's IPC namespace.
const IPCKey int32 = 0x1ab0001

// IPCSteps are the ipc lab's steps.
var IPCSteps = []steps.Step{IPCQueue, IPCShm}

// IPCQueue: a message queue in one IPC namespace, absent from the host's.
var IPCQueue = steps.Step{
	ID:      "ipc/queue",
	Title:   "A message queue only its IPC namespace sees",
	Check:   checkIPCQueue,
	Solve:   solveIPCQueue,
	Cleanup: cleanupIPC,
}

// msgQueues reads the queues of a process's IPC namespace; tests may swap it.
var msgQueues = ns.MsgQueues

func keyHex(k int32) string { return fmt.Sprintf("0x%08x", uint32(k)) }

func checkIPCQueue(ctx context.Context, h checker.Host) checker.Result {
	const name = "a message queue in the lab's IPC namespace, not in the host's"
	fsys, dir := h.FS(), workDir(h, ipcLab)
	hostQueues, err := msgQueues(ns.HostPID(fsys))
	if err != nil {
		return checker.Errored(name, fmt.Errorf("read the host's message queues: %w", err))
	}
	hostKeys := make([]int32, 0, len(hostQueues))
	for _, q := range hostQueues {
		hostKeys = append(hostKeys, q.Key)
	}
	ids, by := isolated(fsys, dir, ns.IPC)
	if len(ids) == 0 {
		hint := "cd " + dir + " && unshare --ipc bash, then ipcmk --queue in it"
		if len(hostQueues) > 0 {
			hint += fmt.Sprintf(" (the host's IPC namespace has %d queues: ipcmk run before unshare makes them there; ipcs -q shows them, ipcrm -q ID removes one)", len(hostQueues))
		}
		return checker.Failed(name, "no process started from "+dir+" is in an IPC namespace of its own", hint)
	}
	var empty []string
	for _, id := range ids {
		p := by[id][0]
		queues, err := msgQueues(p.PID)
		if err != nil {
			return checker.Errored(name, err)
		}
		if len(queues) == 0 {
			empty = append(empty, fmt.Sprintf("%s of %s", id, p))
			continue
		}
		for _, q := range queues {
			if !slices.Contains(hostKeys, q.Key) {
				return checker.Passed(name,
					fmt.Sprintf("the checker joined %s (of %s): /proc/sysvipc/msg there lists queue key %s (msqid %d)", id, p, keyHex(q.Key), q.ID),
					"in the host's IPC namespace, /proc/sysvipc/msg has no queue with that key")
			}
		}
		return checker.Failed(name,
			fmt.Sprintf("every queue of %s is also in the host's IPC namespace (key %s): the two namespaces do not look isolated", id, keyHex(queues[0].Key)),
			"create a new queue with ipcmk --queue inside the unshare --ipc shell")
	}
	hint := "in that shell run ipcmk --queue, then ipcs -q"
	if len(hostQueues) > 0 {
		hint = fmt.Sprintf("the host's IPC namespace has %d message queues: was ipcmk run outside the namespace? Run it inside the unshare --ipc shell (ipcs -q on the host shows the host's, ipcrm -q ID removes one)", len(hostQueues))
	}
	return checker.Failed(name, "the IPC namespace "+empty[0]+" has no message queue", hint)
}

func solveIPCQueue(ctx context.Context, env *steps.Env) error {
	if checkIPCQueue(ctx, env.Host).OK() {
		return nil
	}
	cmd := ns.HoldCommand(ns.Spec{New: []ns.Kind{ns.IPC}}, ns.HoldOptions{MsgQueue: IPCKey})
	cmd.Dir = env.Dir
	pid, err := ns.StartDetached(cmd)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Log, "started PID %d in a new IPC namespace with message queue key %s\n", pid, keyHex(IPCKey))
	return waitFor(ctx, func() bool {
		q, err := msgQueues(pid)
		return err == nil && slices.ContainsFunc(q, func(q procfs.SysvIPC) bool { return q.Key == IPCKey })
	})
}

// cleanupIPC kills the lab's processes in IPC namespaces of their own (the
// namespace, and its queues and segments, go with the last one) and
// removes a queue or segment with the lab's key from the host's namespace.
func cleanupIPC(ctx context.Context, env *steps.Env) error {
	host := ns.HostPID(env.Host.FS())
	return errors.Join(
		ns.UnbindAll(env.Dir),
		killMarked(env.Dir, ns.IPC),
		ns.RemoveMsgQueuesIn(host, IPCKey),
		ns.RemoveShmIn(host, IPCKey),
	)
}

// IPCShm: join the namespace with nsenter and add a shared memory segment.
var IPCShm = steps.Step{
	ID:      "ipc/shm",
	Title:   "Join the IPC namespace and share memory in it",
	Setup:   solveIPCQueue,
	Check:   checkIPCShm,
	Solve:   solveIPCShm,
	Cleanup: cleanupIPC,
}

// shmSegments reads the segments of a process's IPC namespace; tests may swap it.
var shmSegments = ns.ShmSegments

func checkIPCShm(ctx context.Context, h checker.Host) checker.Result {
	const name = "a shared memory segment in the lab's IPC namespace, not in the host's"
	fsys, dir := h.FS(), workDir(h, ipcLab)
	host, err := shmSegments(ns.HostPID(fsys))
	if err != nil {
		return checker.Errored(name, fmt.Errorf("read the host's shared memory segments: %w", err))
	}
	hostKeys := make([]int32, 0, len(host))
	for _, s := range host {
		hostKeys = append(hostKeys, s.Key)
	}
	ids, by := isolated(fsys, dir, ns.IPC)
	if len(ids) == 0 {
		return checker.Failed(name, "no process started from "+dir+" is in an IPC namespace of its own",
			"do step ipc/queue first (lab goto ipc/queue)")
	}
	for _, id := range ids {
		p := by[id][0]
		segs, err := shmSegments(p.PID)
		if err != nil {
			return checker.Errored(name, err)
		}
		for _, s := range segs {
			if !slices.Contains(hostKeys, s.Key) {
				return checker.Passed(name,
					fmt.Sprintf("the checker joined %s (of %s): /proc/sysvipc/shm there lists segment key %s (shmid %d, %s bytes)", id, p, keyHex(s.Key), s.ID, s.Fields["size"]),
					"the host's IPC namespace has no segment with that key")
			}
		}
	}
	p := by[ids[0]][0]
	hint := fmt.Sprintf("join it and make one: nsenter --target %d --ipc ipcmk --shmem 4096", p.PID)
	if len(host) > 0 {
		hint += fmt.Sprintf(" (the host's IPC namespace has %d segments: ipcmk without nsenter makes them there; ipcs -m shows them)", len(host))
	}
	return checker.Failed(name, fmt.Sprintf("the IPC namespace %s of %s has no shared memory segment", ids[0], p), hint)
}

// solveIPCShm joins the lab's IPC namespace on a throwaway thread and
// creates a segment there, as nsenter --ipc ipcmk --shmem does.
func solveIPCShm(ctx context.Context, env *steps.Env) error {
	if err := solveIPCQueue(ctx, env); err != nil {
		return err
	}
	ids, by := isolated(env.Host.FS(), env.Dir, ns.IPC)
	if len(ids) == 0 {
		return errors.New("no process from " + env.Dir + " is in an IPC namespace of its own")
	}
	return ns.CreateShmIn(by[ids[0]][0].PID, IPCKey, 4096)
}
