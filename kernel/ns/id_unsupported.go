//go:build !linux

package ns

import "io/fs"

func statDevIno(fs.FS, string) (dev, ino uint64, ok bool) { return 0, 0, false }
