package ns

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/lab-edu/lab/kernel/reexec"
)

func TestMain(m *testing.M) {
	if reexec.Init() { // holders and probes re-execute the test binary
		return
	}
	// The root tests start processes in new namespaces, which the step
	// tests of the namespace labs (run in parallel by `go test ./...`)
	// would see appear and vanish in their host snapshots. Take those
	// labs' test locks (stepstest.LockLab's files) while this package runs.
	if os.Geteuid() == 0 {
		for _, lab := range []string{"uts", "pid", "user", "ipc"} {
			if f, err := os.OpenFile(filepath.Join("/run/lock", "lab-test-"+lab+".lock"), os.O_RDWR|os.O_CREATE, 0o644); err == nil {
				_ = syscall.Flock(int(f.Fd()), syscall.LOCK_EX) // released when the process exits
			}
		}
	}
	os.Exit(m.Run())
}
