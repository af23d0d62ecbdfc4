package image

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/lab-edu/lab/kernel/kerneltest"
)

// TestChmodByFD runs the fallback a 6.1 kernel takes (no fchmodat2) on
// every kind of entry an archive can hold, whatever this kernel is.
func TestChmodByFD(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root) // mknod of the whiteout device
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(dir, "file"), nil, 0o600))
	must(os.Mkdir(filepath.Join(dir, "dir"), 0o700))
	must(unix.Mkfifo(filepath.Join(dir, "fifo"), 0o600))
	must(unix.Mknod(filepath.Join(dir, "whiteout"), unix.S_IFCHR|0o600, 0))
	root, err := os.OpenRoot(dir)
	must(err)
	defer root.Close()
	for _, name := range []string{"file", "dir", "fifo", "whiteout"} {
		if err := chmodByFD(root, name, 0o751); err != nil {
			t.Errorf("chmodByFD(%s) = %v", name, err)
			continue
		}
		fi, err := os.Lstat(filepath.Join(dir, name))
		must(err)
		if fi.Mode().Perm() != 0o751 {
			t.Errorf("%s mode = %v, want %v", name, fi.Mode().Perm(), fs.FileMode(0o751))
		}
	}
}
