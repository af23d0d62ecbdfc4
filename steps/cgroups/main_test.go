package cgroupslab

import (
	"os"
	"testing"

	"github.com/lab-edu/lab/kernel/reexec"
)

func TestMain(m *testing.M) {
	if reexec.Init() { // the checks' probes re-execute the test binary
		return
	}
	os.Exit(m.Run())
}
