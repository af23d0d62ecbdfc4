//go:build !linux

package image

import (
	"errors"
	"io"
)

// WriteLayer needs Linux (lstat's device numbers, xattrs).
func WriteLayer(w io.Writer, dir string) error { return errors.ErrUnsupported }

// WriteLayerSkipping needs Linux.
func WriteLayerSkipping(w io.Writer, dir string, skip func(name string) bool) error {
	return errors.ErrUnsupported
}
