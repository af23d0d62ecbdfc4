//go:build !linux

package rootfs

import (
	"context"
	"errors"
	"os/exec"
)

// EscapeResult is what the classic chroot escape reached.
type EscapeResult struct {
	Escaped  bool
	Reached  string
	HostRoot string
	Entries  []string
	Steps    []string
}

// EscapeFrom is not available off Linux.
func EscapeFrom(ctx context.Context, dir string) (EscapeResult, error) {
	return EscapeResult{}, errors.ErrUnsupported
}

// EscapeFromProcess is not available off Linux.
func EscapeFromProcess(ctx context.Context, pid int) (EscapeResult, error) {
	return EscapeResult{}, errors.ErrUnsupported
}

// BuildBusybox is not available off Linux.
func BuildBusybox(ctx context.Context, dir string) error { return errors.ErrUnsupported }

// MountProc is not available off Linux.
func MountProc(root string) error { return errors.ErrUnsupported }

// Command is not available off Linux: the command it returns fails.
func Command(root string, argv ...string) *exec.Cmd { return exec.Command("/nonexistent/lab-rootfs") }

// PivotCommand is not available off Linux: the command it returns fails.
func PivotCommand(root string, argv ...string) *exec.Cmd {
	return exec.Command("/nonexistent/lab-rootfs")
}

// StartDetached is not available off Linux.
func StartDetached(cmd *exec.Cmd) (int, error) { return 0, errors.ErrUnsupported }

// Output is not available off Linux.
func Output(ctx context.Context, cmd *exec.Cmd) (stdout, stderr []byte, err error) {
	return nil, nil, errors.ErrUnsupported
}

// Vacate is not available off Linux.
func Vacate(dir string) error { return errors.ErrUnsupported }
