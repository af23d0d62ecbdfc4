package ns

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// Do runs fn on an OS thread that has joined process pid's namespaces of
// the given kinds with setns(2). The goroutine locks its thread first
// (runtime.LockOSThread), so fn runs on the thread that joined. Afterwards
// the thread goes back to its own namespaces and is unlocked; if that
// fails it stays locked, and Go discards it when the goroutine ends
// instead of reusing a thread left in another namespace.
//
// Only UTS, IPC, Net and Cgroup can be joined this way: see the package
// documentation for why Mount and User need a single-threaded process
// (JoinCommand) and why joining PID only affects children.
//
// Equivalent to: nsenter --target PID --uts --ipc ... (for fn's duration).
// Preconditions: fn must not start goroutines that depend on the
// namespaces; it runs on the locked thread, other goroutines do not.
func Do(pid int, kinds []Kind, fn func() error) error {
	for _, k := range kinds {
		switch k {
		case UTS, IPC, Net, Cgroup:
		case Mount, User:
			return fmt.Errorf("ns: cannot join a %s namespace from a multithreaded Go process: use JoinCommand", k)
		default:
			return fmt.Errorf("ns: joining a %s namespace from a thread is not supported", k)
		}
	}
	fds := make([]int, 0, len(kinds))
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	for _, k := range kinds {
		path := fmt.Sprintf("/proc/%d/ns/%s", pid, k)
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return &os.PathError{Op: "open", Path: path, Err: err}
		}
		fds = append(fds, fd)
	}
	return onThread(kinds, func() error {
		for i, fd := range fds {
			if err := unix.Setns(fd, int(kinds[i].CloneFlag())); err != nil {
				return fmt.Errorf("enter %s namespace of process %d: %w", kinds[i], pid, err)
			}
		}
		return fn()
	})
}

// onThread runs fn on a locked OS thread and then puts that thread back
// into the namespaces of kinds it started in. Only if every one is
// restored does it unlock the thread for Go to reuse; otherwise the thread
// stays locked and Go ends it with the goroutine. Restoring matters: the
// goroutine may be running on the main thread, which Go never ends, and
// /proc/PID/ns shows the main thread's namespaces, so a main thread left
// in another namespace would make this whole process look like a member.
func onThread(kinds []Kind, fn func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		var orig []int
		for _, k := range kinds {
			path := "/proc/thread-self/ns/" + string(k)
			fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				closeAll(orig)
				done <- &os.PathError{Op: "open", Path: path, Err: err}
				return // the thread stays locked: it is discarded
			}
			orig = append(orig, fd)
		}
		err := fn()
		restored := true
		for i, fd := range orig {
			if unix.Setns(fd, int(kinds[i].CloneFlag())) != nil {
				restored = false
			}
		}
		closeAll(orig)
		if restored {
			runtime.UnlockOSThread()
		}
		done <- err
	}()
	return <-done
}

func closeAll(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

// Unshare moves the calling thread into new namespaces of the given kinds
// (unshare(2)).
//
// Preconditions: the caller has called runtime.LockOSThread and never
// unlocks it. User is refused: unshare(CLONE_NEWUSER) needs a
// single-threaded process. PID and Time change only where the thread's
// future children are born.
func Unshare(kinds ...Kind) error {
	for _, k := range kinds {
		if k == User {
			return errors.New("ns: cannot unshare a user namespace from a multithreaded Go process: start a child with Command(Spec{New: []Kind{User}})")
		}
	}
	if err := unix.Unshare(int(Flags(kinds...))); err != nil {
		return fmt.Errorf("unshare %v: %w", kinds, err)
	}
	return nil
}

// Self returns the calling thread's namespace of kind. Namespaces belong
// to threads, so this reads /proc/thread-self, not /proc/self.
func Self(kind Kind) (ID, error) {
	return ofPath(os.DirFS("/"), "proc/thread-self/ns/"+string(kind), kind)
}

// InHost reports whether the calling thread is in the host's namespace of
// kind.
func InHost(kind Kind) (bool, error) {
	self, err := Self(kind)
	if err != nil {
		return false, err
	}
	host, err := Host(os.DirFS("/"), kind)
	if err != nil {
		return false, err
	}
	return self.Equal(host), nil
}

// InInitialUserNamespace reports whether the caller is in the initial
// user namespace, the host's. Only there does /proc/self/uid_map map
// every uid to itself ("0 0 4294967295"); it needs no access to another
// process, which a process in a child user namespace lacks.
func InInitialUserNamespace() (bool, error) {
	b, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		return false, err
	}
	f := strings.Fields(string(b))
	return len(f) == 3 && f[0] == "0" && f[1] == "0" && f[2] == "4294967295", nil
}
