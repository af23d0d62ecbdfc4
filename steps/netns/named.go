package netnslab

import (
	"context"
	"errors"
	"os"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/checker/probe"
	"github.com/lab-edu/lab/kernel/netdev"
	knetns "github.com/lab-edu/lab/kernel/netns"
	"github.com/lab-edu/lab/steps"
)

// NamedStep: two named namespaces, loopback up in each.
var NamedStep = steps.Step{
	ID:    "netns/named",
	Title: "Two named network namespaces with loopback up",
	Setup: func(ctx context.Context, env *steps.Env) error { return recordHost(env) },
	Check: checker.All("two named namespaces with loopback up",
		probe.NetnsNamed(red), probe.NetnsNamed(blue),
		probe.LinkRunning(red, "lo"), probe.LinkRunning(blue, "lo")),
	Solve: func(ctx context.Context, env *steps.Env) error {
		for _, ns := range []string{red, blue} {
			if err := createNamed(ns); err != nil {
				return err
			}
			if err := netdev.SetUp(ns, "lo"); err != nil {
				return err
			}
		}
		return nil
	},
	Cleanup: func(ctx context.Context, env *steps.Env) error {
		return errors.Join(deleteNamed(red), deleteNamed(blue), releaseRunNetns(env))
	},
}

// createNamed is `ip netns add NAME` that tolerates a namespace already
// there and replaces a plain file squatting its name.
func createNamed(ns string) error {
	if ok, err := knetns.IsNetns(knetns.Path(ns)); err == nil && ok {
		return nil
	} else if err == nil {
		if err := os.Remove(knetns.Path(ns)); err != nil {
			return err
		}
	}
	return knetns.CreateNamed(ns)
}

// deleteNamed stops every process in ns, then deletes its name: what the
// namespace holds (links, addresses, routes, sockets) goes with it.
func deleteNamed(ns string) error {
	return errors.Join(knetns.KillAll(ns), knetns.DeleteNamed(ns))
}
