package nslab

import (
	"os"
	"testing"

	"github.com/lab-edu/lab/kernel/reexec"
)

func TestMain(m *testing.M) {
	if reexec.Init() { // probes and holders re-execute the test binary
		return
	}
	os.Exit(m.Run())
}
