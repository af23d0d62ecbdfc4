package container

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/lab-edu/lab/kernel/reexec"
)

func TestMain(m *testing.M) {
	if reexec.Init() { // the container init, supervisor and exec re-execute the test binary
		return
	}
	// Containers are processes outside the host's namespaces, which the
	// minidocker lab's step tests would see in their host snapshots: take
	// that lab's test lock (stepstest.LockLab's file) while this package runs.
	if os.Geteuid() == 0 {
		if f, err := os.OpenFile(filepath.Join("/run/lock", "lab-test-minidocker.lock"), os.O_RDWR|os.O_CREATE, 0o644); err == nil {
			_ = syscall.Flock(int(f.Fd()), syscall.LOCK_EX) // released when the process exits
		}
	}
	os.Exit(m.Run())
}
