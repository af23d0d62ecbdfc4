package ns

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/lab-edu/lab/kernel/procfs"
)

// System V IPC objects live in the IPC namespace of the process that
// creates them: the msgget(2) below, run in a new IPC namespace, makes a
// queue that `ipcs -q` on the host never shows.

// CreateMsgQueue creates (or opens) the message queue with key in the
// calling thread's IPC namespace and returns its ID.
//
// Equivalent to: ipcmk --queue (which picks a random key).
func CreateMsgQueue(key int32, perm uint32) (int, error) {
	id, _, errno := unix.Syscall(unix.SYS_MSGGET, uintptr(key), uintptr(unix.IPC_CREAT|perm), 0)
	if errno != 0 {
		return 0, fmt.Errorf("create message queue key %#x: %w", uint32(key), errno)
	}
	return int(id), nil
}

// RemoveMsgQueue removes the message queue id; a queue already gone is
// not an error.
//
// Equivalent to: ipcrm --queue-id ID.
func RemoveMsgQueue(id int) error {
	_, _, errno := unix.Syscall(unix.SYS_MSGCTL, uintptr(id), uintptr(unix.IPC_RMID), 0)
	if errno != 0 && errno != unix.EINVAL && errno != unix.EIDRM {
		return fmt.Errorf("remove message queue %d: %w", id, errno)
	}
	return nil
}

// MsgQueues lists the message queues of process pid's IPC namespace: it
// joins that namespace on a throwaway thread and reads /proc/sysvipc/msg,
// which shows the opener's namespace.
//
// Equivalent to: nsenter --target PID --ipc ipcs -q.
func MsgQueues(pid int) ([]procfs.SysvIPC, error) {
	var out []procfs.SysvIPC
	err := Do(pid, []Kind{IPC}, func() error {
		var err error
		out, err = procfs.ReadSysvIPC(os.DirFS("/"), "msg")
		return err
	})
	return out, err
}

// RemoveMsgQueuesIn removes, in process pid's IPC namespace, the message
// queues whose key is one of keys.
func RemoveMsgQueuesIn(pid int, keys ...int32) error {
	return Do(pid, []Kind{IPC}, func() error {
		queues, err := procfs.ReadSysvIPC(os.DirFS("/"), "msg")
		if err != nil {
			return err
		}
		for _, q := range queues {
			for _, k := range keys {
				if q.Key == k {
					if err := RemoveMsgQueue(q.ID); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
}
