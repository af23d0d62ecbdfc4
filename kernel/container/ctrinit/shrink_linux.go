package ctrinit

import (
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// DropExecutablePages takes the pages of the running binary's read-only
// mappings (code, read-only data) out of the process's resident set, for
// a process about to sleep for long (a supervisor in wait4). They are
// clean copies of the file: madvise(2) with MADV_DONTNEED unmaps them, and
// the kernel maps them back from the page cache if they are used again.
// Writable mappings are left alone: dropping a private page someone wrote
// to would lose the write.
//
// The ranges are collected first and dropped last, in one tight loop of
// system calls: code that runs after the drop faults its pages back in,
// and the kernel maps up to 64 KiB around each fault (fault-around), so
// parsing /proc/self/maps between two drops would undo much of the first.
func DropExecutablePages() {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return
	}
	var ranges [][2]uintptr
	for _, line := range strings.Split(string(maps), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 || f[5] != exe || (f[1] != "r-xp" && f[1] != "r--p") {
			continue
		}
		var start, end uintptr
		if _, err := fmt.Sscanf(f[0], "%x-%x", &start, &end); err != nil {
			continue
		}
		ranges = append(ranges, [2]uintptr{start, end})
	}
	for _, r := range ranges {
		_, _, _ = unix.Syscall(unix.SYS_MADVISE, r[0], r[1]-r[0], unix.MADV_DONTNEED)
	}
}
