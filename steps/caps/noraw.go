package capslab

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/kernel/caps"
	"github.com/lab-edu/lab/steps"
)

// NoRaw: a shell that has lost CAP_NET_RAW for good, proven by a probe
// with the same sets that cannot open a raw ICMP socket.
var NoRaw = steps.Step{
	ID:    "caps/noraw",
	Title: "A root shell without CAP_NET_RAW",
	Check: checkNoRaw,
	Solve: func(ctx context.Context, env *steps.Env) error {
		me, err := rootCreds(env.Host.FS())
		if err != nil {
			return err
		}
		// What capsh --drop=cap_net_raw does before it execs bash.
		me.Bounding = me.Bounding.Without(caps.NetRaw)
		return startShell(me, "noraw")
	},
	Cleanup: func(ctx context.Context, env *steps.Env) error { return killMarked(env.Host.FS(), "noraw") },
}

func checkNoRaw(ctx context.Context, h checker.Host) checker.Result {
	const name = "a root shell without cap_net_raw"
	shells, err := findShells(h.FS())
	if err != nil {
		return checker.Errored(name, err)
	}
	// Sort the shells by how far they got, to name the closest mistake.
	var gone, unprivileged, stillHeld, inheritable, effOnly []shell
	for _, s := range shells {
		c := s.Creds
		switch {
		case c.Lacks(caps.NetRaw) && c.IsRoot():
			gone = append(gone, s)
		case c.Lacks(caps.NetRaw) && !c.Bounding.Has(caps.NetRaw):
			unprivileged = append(unprivileged, s)
		case !c.Bounding.Has(caps.NetRaw) && (c.Effective.Has(caps.NetRaw) || c.Permitted.Has(caps.NetRaw)):
			stillHeld = append(stillHeld, s)
		case !c.Bounding.Has(caps.NetRaw):
			inheritable = append(inheritable, s)
		case c.Permitted.Has(caps.NetRaw) && !c.Effective.Has(caps.NetRaw):
			effOnly = append(effOnly, s)
		}
	}
	for _, s := range gone {
		denied, err := caps.TryRawSocket(ctx, s.Creds)
		if err != nil {
			return checker.Errored(name, err)
		}
		switch {
		case errors.Is(denied, os.ErrPermission):
			return checker.Passed(name,
				fmt.Sprintf("%s: cap_net_raw is in none of its sets (bounding %s)", s, s.Creds.Bounding.Hex()),
				fmt.Sprintf("a probe with the same sets: socket(AF_INET, SOCK_RAW, IPPROTO_ICMP) = %v", denied))
		case denied == nil:
			return checker.Failed(name,
				fmt.Sprintf("%s lacks cap_net_raw in every set, yet a probe with its sets opened a raw ICMP socket", s),
				"is this kernel granting raw sockets another way? Report it to your teacher")
		default:
			return checker.Errored(name, fmt.Errorf("raw socket probe for %s: %w", s, denied))
		}
	}
	if len(stillHeld) > 0 {
		s := stillHeld[0]
		hint := "the bounding set only limits what the next execve grants; start a new shell through it: capsh --drop=cap_net_raw --"
		if s.Creds.Inheritable.Has(caps.NetRaw) || s.Creds.Ambient.Has(caps.NetRaw) {
			hint = "it came back from the inheritable or ambient set at execve: drop it from the bounding set only (capsh --drop=cap_net_raw --, without --inh or --addamb)"
		}
		r := checker.Failed(name,
			fmt.Sprintf("%s has cap_net_raw out of its bounding set but still in %v", s, s.Creds.Holding(caps.NetRaw)), hint)
		if denied, err := caps.TryRawSocket(ctx, s.Creds); err == nil && denied == nil {
			r.Reason += ": a probe with its sets still opened a raw ICMP socket"
		}
		return r
	}
	if len(inheritable) > 0 {
		s := inheritable[0]
		return checker.Failed(name,
			fmt.Sprintf("%s has cap_net_raw out of its bounding set but still in %v: root's next execve gets permitted = inheritable | bounding, so it comes back", s, s.Creds.Holding(caps.NetRaw)),
			"drop only from the bounding set, and do not add it to the inheritable or ambient sets: capsh --drop=cap_net_raw --")
	}
	if len(unprivileged) > 0 {
		s := unprivileged[0]
		return checker.Failed(name,
			fmt.Sprintf("%s lacks cap_net_raw but runs as uid %d, which had no capability to lose; the point is that root loses it", s, s.Creds.UID[1]),
			"start the shell as root: capsh --drop=cap_net_raw -- in a root terminal (sudo -i)")
	}
	if len(effOnly) > 0 {
		s := effOnly[0]
		return checker.Failed(name,
			fmt.Sprintf("%s dropped cap_net_raw from its effective set only: it is still in %v, so the process can raise it again (capset) and its next execve gets it back", s, s.Creds.Holding(caps.NetRaw)),
			"drop it from the bounding set and start a shell through that: capsh --drop=cap_net_raw -- (or setpriv --bounding-set -net_raw bash)")
	}
	const want = "a root shell (bash, sh, ...) whose bounding, permitted and effective sets lack cap_net_raw (bit 13)"
	const hint = "in a root terminal: capsh --drop=cap_net_raw -- then keep that shell open and run lab check from another terminal"
	if len(shells) == 0 {
		return checker.Mismatch(name, want, "no shell process in this user namespace", hint)
	}
	return checker.Mismatch(name, want,
		fmt.Sprintf("%d shells, all with cap_net_raw in their bounding set: %s", len(shells),
			describe(shells, func(s shell) string { return "CapBnd " + s.Creds.Bounding.Hex() })),
		hint)
}
