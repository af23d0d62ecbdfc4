package cgroup

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

const (
	pageSize     = 4096
	allocChunkMB = 1 << 20
)

// AllocMemory maps size bytes of anonymous memory and writes to every
// page, so the kernel really has to provide (and charge to the group) each
// one: an untouched mmap(2) costs nothing. progress, when not nil, is
// called after every MiB with the bytes touched so far. In a group whose
// limit is below size, and that cannot swap, the OOM killer kills the
// process with SIGKILL before AllocMemory returns. The memory stays mapped
// (use the returned slice to keep it alive, or unix.Munmap it).
func AllocMemory(size int64, progress func(touched int64)) ([]byte, error) {
	if size <= 0 || size > MaxAlloc {
		return nil, fmt.Errorf("cgroup: allocate %d bytes: want 1..%d", size, MaxAlloc)
	}
	mem, err := unix.Mmap(-1, 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, fmt.Errorf("cgroup: mmap %d bytes: %w", size, err)
	}
	for off := 0; off < len(mem); off += pageSize {
		mem[off] = 1 // first write: page fault, the kernel allocates and charges a page
		if progress != nil && (off+pageSize)%allocChunkMB == 0 {
			progress(int64(off + pageSize))
		}
	}
	return mem, nil
}

// BurnCPU spins on one thread for d of wall-clock time and returns the CPU
// time that thread got (getrusage(RUSAGE_THREAD)). Under a CFS quota the
// kernel throttles the group once it used its quota in a period, so the
// ratio CPU/wall falls to the quota (0.2 for "20000 100000").
func BurnCPU(d time.Duration) (time.Duration, error) {
	if d <= 0 || d > MaxBurn {
		return 0, fmt.Errorf("cgroup: burn CPU for %s: want up to %s", d, MaxBurn)
	}
	runtime.LockOSThread() // RUSAGE_THREAD measures this thread only
	defer runtime.UnlockOSThread()
	before, err := threadCPU()
	if err != nil {
		return 0, err
	}
	end := time.Now().Add(d)
	x := uint64(1)
	for time.Now().Before(end) {
		for i := 0; i < 10000; i++ {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	sink = x
	after, err := threadCPU()
	if err != nil {
		return 0, err
	}
	return after - before, nil
}

var sink uint64 // keeps the spin loop from being optimised away

func threadCPU() (time.Duration, error) {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &ru); err != nil {
		return 0, fmt.Errorf("cgroup: getrusage: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// ForkBomb forks up to max children that do nothing, stops at the first
// fork that fails (in a group at pids.max, clone(2) fails with EAGAIN),
// then kills and reaps every child. It never leaves a process behind.
//
// Preconditions: nothing else in this process may need a new OS thread
// while it runs. The children are made with a raw clone(SIGCHLD), the
// system call fork(3) makes, and the Go runtime cannot survive failing to
// make a thread (it aborts), so ForkBomb pins itself to one thread, sets
// GOMAXPROCS to 1 and stops the garbage collector until it is done.
func ForkBomb(max int) (ForkResult, error) {
	if max <= 0 || max > MaxForks {
		return ForkResult{}, fmt.Errorf("cgroup: fork bomb of %d: want 1..%d", max, MaxForks)
	}
	res := ForkResult{Tasks: threads()}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	children := make([]int, 0, max) // allocated before forking: no allocation in the loop
	for len(children) < max {
		pid, errno := rawFork()
		if pid == 0 {
			childWait() // the child: never returns
		}
		if errno != 0 {
			res.Refused, res.Errno = true, unix.ErrnoName(errno)
			break
		}
		children = append(children, int(pid))
	}
	res.Forked = len(children)
	for _, pid := range children {
		_, _, _ = unix.RawSyscall(unix.SYS_KILL, uintptr(pid), uintptr(syscall.SIGKILL), 0)
	}
	var errs []error
	for _, pid := range children {
		// A killed child is a zombie, and still counts in pids.current,
		// until it is reaped; so reaping is raw too (a blocking
		// syscall.Syscall may make the runtime start a thread).
		_, _, errno := unix.RawSyscall6(unix.SYS_WAIT4, uintptr(pid), 0, 0, 0, 0, 0)
		if errno != 0 && errno != unix.ECHILD {
			errs = append(errs, fmt.Errorf("cgroup: reap child %d: %w", pid, errno))
		}
	}
	return res, errors.Join(errs...)
}

// rawFork is fork(2): clone with only SIGCHLD as exit signal, no new
// stack, so the child continues here with a copy of the calling thread.
func rawFork() (uintptr, unix.Errno) {
	pid, _, errno := unix.RawSyscall6(unix.SYS_CLONE, uintptr(unix.SIGCHLD), 0, 0, 0, 0, 0)
	return pid, errno
}

// childWait is all a fork bomb child does: block in ppoll(2) with no file
// descriptors until a signal (the parent's SIGKILL) ends it. It uses raw
// system calls only: the child has one thread and no working Go runtime.
//
//go:nosplit
func childWait() {
	for {
		_, _, _ = unix.RawSyscall6(unix.SYS_PPOLL, 0, 0, 0, 0, 0, 0)
	}
}

// threads is the Threads: line of /proc/self/status: each thread is a task
// that pids.current counts.
func threads() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Threads:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	return 0
}
