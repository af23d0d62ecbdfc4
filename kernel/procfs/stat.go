package procfs

import (
	"fmt"
	"io/fs"
	"strconv"
	"strings"
)

// StartTime reads field 22 of /proc/PID/stat: when the process started, in
// clock ticks since boot. A PID can be reused after its process dies, but
// the pair (PID, start time) names one process for the life of the system,
// so a saved pair tells whether "the process I started" is still there.
func StartTime(fsys fs.FS, pid int) (uint64, error) {
	b, err := fs.ReadFile(fsys, fmt.Sprintf("proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return ParseStartTime(string(b))
}

// ParseStartTime takes the start time out of a /proc/PID/stat line. The
// command name (field 2) is in parentheses and may itself hold spaces and
// parentheses, so fields are counted from the last ")".
func ParseStartTime(stat string) (uint64, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("procfs: stat line without a command name")
	}
	fields := strings.Fields(stat[i+1:]) // field 3 (state) onwards
	const startTime = 22 - 3
	if len(fields) <= startTime {
		return 0, fmt.Errorf("procfs: stat line has %d fields, want at least 22", len(fields)+2)
	}
	return strconv.ParseUint(fields[startTime], 10, 64)
}
