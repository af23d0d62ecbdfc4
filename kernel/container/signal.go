package container

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// ParseSignal reads a signal the way `docker kill -s` does: a name with or
// without the SIG prefix, in any case (TERM, sigterm), or a number (15).
func ParseSignal(s string) (syscall.Signal, error) {
	if sig := unix.SignalNum("SIG" + strings.TrimPrefix(strings.ToUpper(s), "SIG")); sig != 0 {
		return sig, nil
	}
	if n, err := strconv.Atoi(s); err == nil && n > 0 && n < 65 {
		return syscall.Signal(n), nil
	}
	return 0, fmt.Errorf("container: unknown signal %q: want a name like TERM or a number like 15", s)
}
