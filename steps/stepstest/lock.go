package stepstest

import (
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

// LockLab makes tests of one lab take turns across test binaries: `go
// test ./...` runs packages in parallel, and a lab's own package tests and
// the lifecycle test in labs/ use the same kernel names (netns lab-red, a
// cgroup lab-mem), so they must not overlap. The lock is an flock(2) on
// /run/lock/lab-test-<lab>.lock, held until the test ends; within one
// process it is counted, so nested calls do not deadlock.
func LockLab(t testing.TB, lab string) {
	t.Helper()
	labLocks.Lock()
	defer labLocks.Unlock()
	if labLocks.held == nil {
		labLocks.held = map[string]*heldLock{}
	}
	l := labLocks.held[lab]
	if l == nil {
		dir := "/run/lock"
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return // not root: nothing of the kernel to share either
		}
		f, err := os.OpenFile(filepath.Join(dir, "lab-test-"+lab+".lock"), os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			f.Close()
			return
		}
		l = &heldLock{f: f}
		labLocks.held[lab] = l
	}
	l.n++
	t.Cleanup(func() {
		labLocks.Lock()
		defer labLocks.Unlock()
		if l.n--; l.n == 0 {
			l.f.Close() // closing the last descriptor releases the flock
			delete(labLocks.held, lab)
		}
	})
}

type heldLock struct {
	f *os.File
	n int
}

var labLocks struct {
	sync.Mutex
	held map[string]*heldLock
}
