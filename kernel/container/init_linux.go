package container

import (
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/lab-edu/lab/kernel/container/ctrinit"
	"github.com/lab-edu/lab/kernel/reexec"
)

// The re-executed entries of this package (see kernel/reexec).
const (
	initEntry       = "container-init"
	supervisorEntry = "container-supervisor"
	execEntry       = "container-exec"
)

func init() {
	reexec.Register(initEntry, ctrinit.Main)
	reexec.Register(supervisorEntry, supervisorMain)
	reexec.Register(execEntry, execMain)
}

// process is what runs in the container: the init's command, or exec's.
type process = ctrinit.Process

// initBinary is the program the init starts as: lab-init beside this
// binary when it is installed there (small, so it starts fast; see
// kernel/container/ctrinit), otherwise this binary re-executed
// (kernel/reexec), which runs the same code. lab-init must be a regular
// file owned by root and writable by nobody else, as lab itself: it runs
// as root in every container.
var initBinary = sync.OnceValues(func() (path string, args0 string) {
	self, err := os.Executable()
	if err == nil {
		p := filepath.Join(filepath.Dir(self), "lab-init")
		var st unix.Stat_t
		if unix.Stat(p, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFREG &&
			st.Uid == 0 && st.Mode&0o022 == 0 && st.Mode&0o100 != 0 {
			return p, "lab-init"
		}
	}
	return reexec.Self, reexec.Prefix + initEntry
})

// InitProgram is the program every container starts as, and whether it
// is the small lab-init (see initBinary) rather than lab re-executed.
func InitProgram() (path string, small bool) {
	path, args0 := initBinary()
	return path, args0 == "lab-init"
}
