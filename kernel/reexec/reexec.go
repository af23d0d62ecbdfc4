// Package reexec lets the lab binary run parts of itself as a child
// process: the container init, a probe that must run with fewer
// capabilities, a load generator inside a cgroup. The child is the same
// executable (/proc/self/exe), started with a registered entry name as
// argv[0], the trick moby's pkg/reexec uses.
//
// Namespace and credential changes that apply to a whole process (joining
// a mount namespace, dropping the bounding set for an exec) are safest in a
// fresh single-threaded child, which is what this gives.
package reexec

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// Prefix marks argv[0] of a re-executed child.
const Prefix = "lab-reexec:"

var entries = map[string]func(){}

// Register adds an entry point. Call it from an init function. The function
// runs instead of main and must end the process (os.Exit).
func Register(name string, fn func()) {
	if _, dup := entries[name]; dup {
		panic("reexec: entry registered twice: " + name)
	}
	entries[name] = fn
}

// Init runs the registered entry when this process was started by Command,
// and reports whether it did. main and TestMain call it first thing.
func Init() bool {
	name, ok := strings.CutPrefix(os.Args[0], Prefix)
	if !ok {
		return false
	}
	fn, ok := entries[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "reexec: no entry %q in this binary\n", name)
		os.Exit(127)
	}
	fn()
	return true
}

// Self is the path of the running binary. /proc/self/exe is the kernel's
// link to the executable file itself, so it works even if the file on disk
// was renamed, and it is what runc re-executes too.
const Self = "/proc/self/exe"

// Command returns an *exec.Cmd that runs entry name in a new process of
// this same binary, with args as os.Args[1:].
func Command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(Self, args...)
	cmd.Args[0] = Prefix + name
	return cmd
}
