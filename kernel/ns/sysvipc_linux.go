package ns

import (
	"errors"
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

// CreateShm creates (or opens) the shared memory segment with key and
// size bytes in the calling thread's IPC namespace and returns its ID.
//
// Equivalent to: ipcmk --shmem SIZE (which picks a random key).
func CreateShm(key int32, size int, perm uint32) (int, error) {
	id, err := unix.SysvShmGet(int(key), size, unix.IPC_CREAT|int(perm))
	if err != nil {
		return 0, fmt.Errorf("create shared memory key %#x: %w", uint32(key), err)
	}
	return id, nil
}

// RemoveShm removes the shared memory segment id; one already gone is not
// an error.
//
// Equivalent to: ipcrm --shmem-id ID.
func RemoveShm(id int) error {
	if _, err := unix.SysvShmCtl(id, unix.IPC_RMID, nil); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.EIDRM) {
		return fmt.Errorf("remove shared memory %d: %w", id, err)
	}
	return nil
}

// ShmSegments lists the shared memory segments of process pid's IPC
// namespace, from /proc/sysvipc/shm read inside it.
//
// Equivalent to: nsenter --target PID --ipc ipcs -m.
func ShmSegments(pid int) ([]procfs.SysvIPC, error) {
	var out []procfs.SysvIPC
	err := Do(pid, []Kind{IPC}, func() error {
		var err error
		out, err = procfs.ReadSysvIPC(os.DirFS("/"), "shm")
		return err
	})
	return out, err
}

// CreateShmIn creates a segment in process pid's IPC namespace (joined on
// a throwaway thread).
func CreateShmIn(pid int, key int32, size int) error {
	return Do(pid, []Kind{IPC}, func() error {
		_, err := CreateShm(key, size, 0o644)
		return err
	})
}

// RemoveShmIn removes, in process pid's IPC namespace, the segments whose
// key is one of keys.
func RemoveShmIn(pid int, keys ...int32) error {
	return Do(pid, []Kind{IPC}, func() error {
		segs, err := procfs.ReadSysvIPC(os.DirFS("/"), "shm")
		if err != nil {
			return err
		}
		for _, s := range segs {
			for _, k := range keys {
				if s.Key == k {
					if err := RemoveShm(s.ID); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
}
