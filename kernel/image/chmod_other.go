//go:build !linux

package image

import (
	"io/fs"
	"os"
)

// ChmodIn sets the mode of name inside root (see the Linux version).
func ChmodIn(root *os.Root, name string, mode fs.FileMode) error {
	return root.Chmod(name, mode)
}
