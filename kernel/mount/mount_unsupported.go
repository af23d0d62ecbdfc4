//go:build !linux

package mount

import (
	"errors"
	"os/exec"
)

// Namespace describes a command to run in a new mount namespace.
type Namespace struct {
	KeepPropagation bool
	Mounts          []Mount
	Argv            []string
}

// Command is not available off Linux.
func (ns Namespace) Command() (*exec.Cmd, error) { return nil, errors.ErrUnsupported }

// Mount is not available off Linux.
func (m Mount) Mount() error { return errors.ErrUnsupported }

// Bind is not available off Linux.
func Bind(source, target string) error { return errors.ErrUnsupported }

// SetPropagation is not available off Linux.
func SetPropagation(target string, p Propagation, recursive bool) error {
	return errors.ErrUnsupported
}

// IsMountpoint is not available off Linux.
func IsMountpoint(path string) (bool, error) { return false, errors.ErrUnsupported }

// Unmount is not available off Linux.
func Unmount(target string) error { return errors.ErrUnsupported }

// UnmountAll is not available off Linux.
func UnmountAll(dir string) error { return errors.ErrUnsupported }
