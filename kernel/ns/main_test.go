package ns

import (
	"os"
	"testing"

	"github.com/lab-edu/lab/kernel/reexec"
)

func TestMain(m *testing.M) {
	if reexec.Init() { // holders and probes re-execute the test binary
		return
	}
	os.Exit(m.Run())
}
