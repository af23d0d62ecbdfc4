package capslab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/kernel/caps"
	"github.com/lab-edu/lab/steps"
)

// RootNoCaps: a root shell with an empty bounding set, proven powerless by
// a probe with its sets that cannot chown a file it does not own.
var RootNoCaps = steps.Step{
	ID:    "caps/nocaps",
	Title: "Root without capabilities",
	Setup: NoRaw.Solve, // the shell of the previous step is root without one capability
	Check: checkNoCaps,
	Solve: func(ctx context.Context, env *steps.Env) error {
		// What capsh --drop=all does before it execs bash: an empty
		// bounding set, so root's execve computes permitted = 0.
		return startShell(caps.Creds{}, "nocaps")
	},
	Cleanup: func(ctx context.Context, env *steps.Env) error { return killMarked(env.Host.FS(), "nocaps") },
}

func checkNoCaps(ctx context.Context, h checker.Host) checker.Result {
	const name = "a root shell with no capabilities"
	last, err := caps.LastCap(h.FS())
	if err != nil {
		return checker.Errored(name, err)
	}
	shells, err := findShells(h.FS())
	if err != nil {
		return checker.Errored(name, err)
	}
	known := caps.Full(last)
	var best *shell
	for i, s := range shells {
		if !s.Creds.IsRoot() {
			continue
		}
		c := s.Creds
		if c.Bounding&known == 0 && (c.Effective|c.Permitted|c.Inheritable|c.Ambient)&known == 0 {
			return proveNoChown(ctx, h, s)
		}
		if best == nil || c.Bounding.Len() < best.Creds.Bounding.Len() {
			best = &shells[i]
		}
	}
	if best == nil {
		return checker.Mismatch(name, "a shell running as uid 0 with an empty bounding set",
			"no shell runs as root: "+describe(shells, func(s shell) string { return fmt.Sprintf("uid %d", s.Creds.UID[1]) }),
			"in a root terminal: capsh --drop=all -- (or setpriv --bounding-set -all bash)")
	}
	c := best.Creds
	if c.Bounding&known == 0 {
		return checker.Failed(name,
			fmt.Sprintf("%s has an empty bounding set but still holds %s in effective/permitted/inheritable/ambient", best, (c.Effective|c.Permitted|c.Inheritable|c.Ambient).String()),
			"a shell started through the empty bounding set has none: capsh --drop=all --")
	}
	return checker.Failed(name,
		fmt.Sprintf("the root shell closest to it, %s, still has %d capabilities in its bounding set (%s)",
			best, c.Bounding.Len(), abbreviate(c.Bounding)),
		"drop them all from the bounding set before bash starts: capsh --drop=all -- (or setpriv --bounding-set -all bash)")
}

// abbreviate names at most four capabilities of s.
func abbreviate(s caps.Set) string {
	names := s.Names()
	if len(names) > 4 {
		return fmt.Sprintf("%s, ... and %d more", strings.Join(names[:4], ", "), len(names)-4)
	}
	return strings.Join(names, ", ")
}

// proveNoChown makes a file owned by uid 65534, then tries chown(file,
// 0, 0) twice: with the shell's credentials (root without CAP_CHOWN: the
// kernel must say EPERM) and with the checker's own (root with it: it
// works), so the difference is the capability and nothing else.
func proveNoChown(ctx context.Context, h checker.Host, s shell) checker.Result {
	const name = "a root shell with no capabilities"
	dir, err := os.MkdirTemp("", "lab-caps-chown-")
	if err != nil {
		return checker.Errored(name, err)
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		return checker.Errored(name, err)
	}
	file := filepath.Join(dir, "owned-by-nobody")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		return checker.Errored(name, err)
	}
	if err := os.Chown(file, nobodyID, nobodyID); err != nil {
		return checker.Errored(name, err)
	}
	denied, err := caps.TryChown(ctx, s.Creds, file, 0, 0)
	if err != nil {
		return checker.Errored(name, err)
	}
	if denied == nil {
		return checker.Failed(name,
			fmt.Sprintf("a probe with the sets of %s chowned a file owned by uid %d: it is still privileged", s, nobodyID),
			"capsh --drop=all -- gives a shell that cannot")
	}
	if !errors.Is(denied, os.ErrPermission) {
		return checker.Errored(name, fmt.Errorf("chown probe for %s: %w", s, denied))
	}
	me, err := rootCreds(h.FS())
	if err != nil {
		return checker.Errored(name, err)
	}
	if control, err := caps.TryChown(ctx, me, file, 0, 0); err != nil || control != nil {
		return checker.Errored(name, fmt.Errorf("control chown with full root capabilities: %v %v", control, err))
	}
	return checker.Passed(name,
		fmt.Sprintf("%s runs as uid 0 with every set empty (bounding %s)", s, s.Creds.Bounding.Hex()),
		fmt.Sprintf("a probe with its sets: chown of a file owned by uid %d: %v; with CAP_CHOWN the same chown works", nobodyID, denied))
}
