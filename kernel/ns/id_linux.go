package ns

import (
	"io/fs"
	"syscall"
)

// statDevIno stats a /proc/PID/ns link through fsys (os.DirFS follows it
// to the nsfs inode).
func statDevIno(fsys fs.FS, path string) (dev, ino uint64, ok bool) {
	fi, err := fs.Stat(fsys, path)
	if err != nil {
		return 0, 0, false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return st.Dev, st.Ino, true
}
