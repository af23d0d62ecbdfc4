//go:build !linux

package ctrinit

import (
	"fmt"
	"os"
)

// Main fails: containers need Linux namespaces and cgroups.
func Main() {
	fmt.Fprintln(os.Stderr, "lab-init: containers need Linux")
	os.Exit(ExitEngine)
}

// WaitMain fails: containers need Linux.
func WaitMain() { Main() }
