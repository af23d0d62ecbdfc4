package ns_test

import (
	"fmt"

	"github.com/lab-edu/lab/kernel/ns"
)

// Command builds what `unshare --uts --pid --fork CMD` runs: the flags go
// on the exec.Cmd, and Go's clone(2) creates the child in the new
// namespaces.
func ExampleCommand() {
	cmd := ns.Command(ns.Spec{New: []ns.Kind{ns.UTS, ns.PID}}, "/bin/sh", "-c", "hostname box; exec sh")
	fmt.Println(ns.KindsOf(cmd.SysProcAttr.Cloneflags))
	// Output: [pid uts]
}
