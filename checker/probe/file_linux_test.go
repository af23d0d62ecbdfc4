package probe_test

import (
	"os"
	"testing"

	"github.com/lab-edu/lab/checker/probe"
)

// The host's own programs: a static busybox has no interpreter, a
// dynamically linked bash has the loader.
func TestInterpreterHostBinaries(t *testing.T) {
	host := os.DirFS("/")
	if _, err := os.Stat("/bin/busybox"); err == nil {
		if interp, err := probe.Interpreter(host, "bin/busybox"); err != nil || interp != "" {
			t.Errorf("Interpreter(busybox) = %q, %v; want static", interp, err)
		}
	}
	if interp, err := probe.Interpreter(host, "bin/bash"); err != nil || interp == "" {
		t.Errorf("Interpreter(bash) = %q, %v; want its ELF loader", interp, err)
	}
}
