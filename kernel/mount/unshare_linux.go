package mount

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/lab-edu/lab/kernel/reexec"
)

const entryUnshare = "mount-unshare"

func init() { reexec.Register(entryUnshare, unshareMain) }

// Namespace describes a command to run in a new mount namespace: what
// unshare(1) -m does, then a few mounts, then exec.
type Namespace struct {
	// KeepPropagation leaves the copied mounts' propagation as it is
	// (unshare --propagation unchanged): mounts under a shared mount then
	// propagate to the host. By default every mount is made private first
	// (unshare's default, --propagation private), so nothing leaks out.
	KeepPropagation bool
	Mounts          []Mount  // done in order, inside the new namespace
	Argv            []string // then exec'd; argv[0] is an absolute path
}

// Command returns an unstarted command that runs ns.Argv in a new mount
// namespace after ns.Mounts. The namespace comes from clone(2) itself
// (CLONE_NEWNS), so every thread of the child is in it.
//
// Equivalent to: unshare -m [--propagation unchanged] sh -c 'mount ...; exec ARGV'
func (ns Namespace) Command() (*exec.Cmd, error) {
	if len(ns.Argv) == 0 {
		return nil, fmt.Errorf("mount: namespace command has no argv")
	}
	spec, err := json.Marshal(ns)
	if err != nil {
		return nil, err
	}
	cmd := reexec.Command(entryUnshare, string(spec))
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNS}
	return cmd, nil
}

func unshareMain() {
	var ns Namespace
	if len(os.Args) != 2 || json.Unmarshal([]byte(os.Args[1]), &ns) != nil || len(ns.Argv) == 0 {
		fmt.Fprintf(os.Stderr, "usage: %s JSON-SPEC\n", entryUnshare)
		os.Exit(2)
	}
	if !ns.KeepPropagation {
		if err := MakeRPrivate("/"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(125)
		}
	}
	for _, m := range ns.Mounts {
		if err := m.Mount(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(125)
		}
	}
	err := unix.Exec(ns.Argv[0], ns.Argv, os.Environ())
	fmt.Fprintf(os.Stderr, "exec %s: %v\n", ns.Argv[0], err)
	os.Exit(127)
}
