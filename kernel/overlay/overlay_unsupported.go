//go:build !linux

package overlay

import (
	"errors"
	"io/fs"
)

// Mount needs Linux.
func Mount(Layers, string) error { return errors.ErrUnsupported }

// Unmount needs Linux.
func Unmount(string) error { return errors.ErrUnsupported }

// Diff needs Linux (whiteouts are Linux device numbers and xattrs).
func Diff(Layers) ([]Change, error) { return nil, errors.ErrUnsupported }

// IsWhiteout needs Linux.
func IsWhiteout(fs.FileInfo) bool { return false }

// IsOpaque needs Linux.
func IsOpaque(string) (bool, error) { return false, errors.ErrUnsupported }

// SetOpaque needs Linux.
func SetOpaque(string) error { return errors.ErrUnsupported }

// MakeWhiteout needs Linux.
func MakeWhiteout(string) error { return errors.ErrUnsupported }

// DeviceNumbers needs Linux.
func DeviceNumbers(fs.FileInfo) (major, minor uint32, ok bool) { return 0, 0, false }
