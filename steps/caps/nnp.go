package capslab

import (
	"context"
	"fmt"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/kernel/caps"
	"github.com/lab-edu/lab/steps"
)

// NoNewPrivs: an unprivileged shell under no_new_privs, where the file
// capability of the previous step grants nothing.
var NoNewPrivs = steps.Step{
	ID:    "caps/nnp",
	Title: "no_new_privs: execve grants nothing",
	Setup: solveFileCaps, // the binary with cap_net_bind_service+ep
	Check: checkNNP,
	Solve: func(ctx context.Context, env *steps.Env) error {
		me, err := rootCreds(env.Host.FS())
		if err != nil {
			return err
		}
		// What setpriv --reuid=65534 --regid=65534 --clear-groups
		// --no-new-privs bash does.
		c := nobodyCreds(me.Bounding)
		c.NoNewPrivs = true
		return startShell(c, "nnp")
	},
	Cleanup: func(ctx context.Context, env *steps.Env) error { return killMarked(env.Host.FS(), "nnp") },
}

func checkNNP(ctx context.Context, h checker.Host) checker.Result {
	const name = "an unprivileged shell under no_new_privs"
	shells, err := findShells(h.FS())
	if err != nil {
		return checker.Errored(name, err)
	}
	var nnpRoot, plain []shell
	var found *shell
	for i, s := range shells {
		switch {
		case s.Creds.NoNewPrivs && !s.Creds.IsRoot():
			if found == nil {
				found = &shells[i]
			}
		case s.Creds.NoNewPrivs:
			nnpRoot = append(nnpRoot, s)
		case !s.Creds.IsRoot():
			plain = append(plain, s)
		}
	}
	if found == nil {
		if len(nnpRoot) > 0 {
			return checker.Failed(name,
				fmt.Sprintf("%s has no_new_privs but runs as root, which keeps the capabilities it already has: there is nothing left to gain", nnpRoot[0]),
				"run the shell as an unprivileged user: setpriv --reuid=65534 --regid=65534 --clear-groups --no-new-privs bash")
		}
		return checker.Mismatch(name, "a shell with NoNewPrivs: 1 in /proc/PID/status, running as a non-root uid",
			fmt.Sprintf("no shell has no_new_privs (unprivileged shells: %s)", describe(plain, func(s shell) string { return fmt.Sprintf("uid %d", s.Creds.UID[1]) })),
			"setpriv --reuid=65534 --regid=65534 --clear-groups --no-new-privs bash")
	}
	path := binaryPath(h)
	fc, ok, err := caps.ReadFileCaps(path)
	if err != nil || !ok || !fc.Effective || !fc.Permitted.Has(caps.NetBindService) {
		return checker.Failed(name,
			path+" has no cap_net_bind_service+ep: without a privileged binary there is nothing for no_new_privs to stop",
			"do caps/filecaps first (lab goto caps/filecaps)")
	}
	s := *found
	with, err := caps.TryBind(ctx, s.Creds, 80, bindWait, bindArgv(path)...)
	if err != nil {
		return checker.Errored(name, err)
	}
	if with.Bound {
		return checker.Failed(name,
			fmt.Sprintf("a probe with the credentials of %s (no_new_privs set) ran %s and it still bound port 80", s, path),
			"no_new_privs must be set in the shell itself: setpriv --no-new-privs ... bash")
	}
	without := s.Creds
	without.NoNewPrivs = false
	control, err := caps.TryBind(ctx, without, 80, bindWait, bindArgv(path)...)
	if err != nil {
		return checker.Errored(name, err)
	}
	if !control.Bound {
		return checker.Failed(name,
			fmt.Sprintf("even without no_new_privs, uid %d could not bind port 80 with %s (%s): the comparison proves nothing",
				s.Creds.UID[1], path, orNothing(control.Output)),
			"make sure lab check caps/filecaps passes, and that the shell's uid can execute "+path)
	}
	return checker.Passed(name,
		fmt.Sprintf("%s runs as uid %d with no_new_privs", s, s.Creds.UID[1]),
		fmt.Sprintf("with its credentials, %s (%s) could not bind port 80: %s", path, fc, orNothing(with.Output)),
		"without no_new_privs, the same uid and binary bound port 80")
}
