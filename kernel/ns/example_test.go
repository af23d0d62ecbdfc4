package ns_test

import (
	"fmt"

	"github.com/lab-edu/lab/kernel/ns"
)

// ParseKind accepts the names of /proc/PID/ns and of unshare's options.
func ExampleParseKind() {
	k, _ := ns.ParseKind("network")
	fmt.Printf("%s %#x\n", k, k.CloneFlag())
	// Output: net 0x40000000
}

// Flags gives the clone(2) flags of `unshare --uts --pid --mount`.
func ExampleFlags() {
	f := ns.Flags(ns.UTS, ns.PID, ns.Mount)
	fmt.Printf("%#x %v\n", f, ns.KindsOf(f))
	// Output: 0x24020000 [mnt pid uts]
}
