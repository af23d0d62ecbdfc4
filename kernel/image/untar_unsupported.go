//go:build !linux

package image

import (
	"errors"
	"io/fs"
	"os"
)

func mknodAt(*os.Root, string, fs.FileMode, uint32, uint32) error { return errors.ErrUnsupported }

func setOpaqueAt(*os.Root, string) error { return errors.ErrUnsupported }

func setXattrAt(*os.Root, string, string, []byte) error { return errors.ErrUnsupported }
