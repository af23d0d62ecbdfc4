package procfs

import (
	"fmt"
	"io/fs"
	"strings"
)

// Environ returns the environment process pid started with (or set by
// exec), from /proc/PID/environ, as KEY=VALUE strings.
func Environ(fsys fs.FS, pid int) ([]string, error) {
	b, err := fs.ReadFile(fsys, fmt.Sprintf("proc/%d/environ", pid))
	if err != nil {
		return nil, err
	}
	s := strings.TrimRight(string(b), "\x00")
	if s == "" {
		return nil, nil
	}
	return strings.Split(s, "\x00"), nil
}
