// Package capslab is the capabilities lab: decode the sets of your shell,
// a shell without CAP_NET_RAW, file capabilities that let an unprivileged
// user bind port 80, root without capabilities, no_new_privs, and what
// containers keep.
//
// The checks never trust names or files the student writes: they find
// shells by their capability sets in /proc/PID/status, and prove the
// consequence with a probe that copies those sets into a fresh child
// (kernel/caps) and asks the kernel for the privileged action.
package capslab

import (
	"context"
	"errors"
	"os"
	"path/filepath"

	"github.com/lab-edu/lab/kernel/caps"
	"github.com/lab-edu/lab/steps"
)

// Lab is the lab's ID: its steps are caps/<slug>.
const Lab = "caps"

// Steps are the lab's steps, in order.
var Steps = []steps.Step{
	Decode,
	NoRaw,
	FileCaps,
	RootNoCaps,
	NoNewPrivs,
	Containers,
}

// Reset kills every process the lab text or a Solve started (they carry
// the LAB_CAPS marker in their environment, whatever its value) and
// removes file capabilities from every file of the lab's workspace, so no
// privileged copy survives even if the workspace is kept.
func Reset(ctx context.Context, env *steps.Env) error {
	errs := []error{killMarked(env.Host.FS(), "")}
	entries, err := os.ReadDir(env.Dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, err)
	}
	for _, e := range entries {
		if e.Type().IsRegular() {
			errs = append(errs, caps.RemoveFileCaps(filepath.Join(env.Dir, e.Name())))
		}
	}
	return errors.Join(errs...)
}
