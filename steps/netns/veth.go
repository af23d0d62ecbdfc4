package netnslab

import (
	"context"
	"errors"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/checker/probe"
	"github.com/lab-edu/lab/kernel/netdev"
	"github.com/lab-edu/lab/steps"
)

// VethStep: one veth pair, one end in each namespace.
var VethStep = steps.Step{
	ID:    "netns/veth",
	Title: "A veth pair with one end in each namespace",
	Check: checker.All("veth pair between lab-red and lab-blue",
		probe.NetnsNamed(red), probe.NetnsNamed(blue),
		probe.VethPeers(red, redVeth, blue, blueVeth)),
	Solve: func(ctx context.Context, env *steps.Env) error {
		return addVethBetween(red, redVeth, blue, blueVeth)
	},
	Cleanup: func(ctx context.Context, env *steps.Env) error {
		// Deleting one end deletes the pair, wherever the ends are.
		return errors.Join(
			netdev.DeleteLink(red, redVeth), netdev.DeleteLink("", redVeth),
			netdev.DeleteLink(blue, blueVeth), netdev.DeleteLink("", blueVeth))
	},
}

// addVethBetween makes a pair a/b on the host and moves a into nsA and b
// into nsB ("" leaves an end on the host). Ends already in place are left
// alone, so it also finishes a pair made by hand.
func addVethBetween(nsA, a, nsB, b string) error {
	_, errA := netdev.LinkByName(nsA, a)
	_, errB := netdev.LinkByName(nsB, b)
	if errA == nil && errB == nil {
		return nil
	}
	if _, err := netdev.LinkByName("", a); err != nil && errA != nil {
		if err := netdev.AddVeth(a, b); err != nil {
			return err
		}
	}
	for _, end := range [][2]string{{nsA, a}, {nsB, b}} {
		if end[0] == "" {
			continue
		}
		if _, err := netdev.LinkByName("", end[1]); err == nil {
			if err := netdev.SetNetns("", end[1], end[0]); err != nil {
				return err
			}
		}
	}
	return nil
}
