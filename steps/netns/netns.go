// Package netnslab is the netns lab: named network namespaces, a veth pair
// between two of them, addresses and real traffic, a bridge joining three,
// a default route with NAT to an outside network, and a published port
// like `docker run -p 8080:80`.
//
// Every object the lab or the learner makes has a lab- name (namespaces
// lab-red, lab-blue, lab-green, links lab-*, bridge lab-br0) or lives in
// the lab's address space 10.200.0.0/16, which is how Cleanup and Reset
// find them after a crash, and how they leave everything else alone.
package netnslab

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lab-edu/lab/checker/probe"
	"github.com/lab-edu/lab/kernel/netdev"
	knetns "github.com/lab-edu/lab/kernel/netns"
	"github.com/lab-edu/lab/steps"
)

// Lab metadata, for the one line in labs/catalog.go.
const (
	ID      = "netns"
	Title   = "Network namespaces: veth, bridge, NAT and published ports"
	Summary = "Wire network namespaces together with veth pairs and a bridge, route them out through NAT and publish a port, as Docker does."
)

// The lab's namespaces and links.
const (
	red   = "lab-red"
	blue  = "lab-blue"
	green = "lab-green"

	redVeth  = "lab-red0" // the direct pair red <-> blue
	blueVeth = "lab-blue0"

	bridge = "lab-br0"
)

// colors are the three namespaces on the bridge.
var colors = []string{red, blue, green}

// The lab's address plan, all inside 10.200.0.0/16.
var (
	redAddr    = netip.MustParsePrefix("10.200.1.1/24")
	blueAddr   = netip.MustParsePrefix("10.200.1.2/24")
	bridgeNet  = netip.MustParsePrefix("10.200.2.0/24")
	gatewayIP  = netip.MustParsePrefix("10.200.2.1/24") // lab-br0's own address
	bridgeAddr = map[string]netip.Prefix{
		red:   netip.MustParsePrefix("10.200.2.2/24"),
		blue:  netip.MustParsePrefix("10.200.2.3/24"),
		green: netip.MustParsePrefix("10.200.2.4/24"),
	}
)

// hostEnd is the host end of color's veth to the bridge (lab-br-red);
// nsEnd is the end inside the namespace (lab-red1).
func hostEnd(color string) string { return "lab-br-" + strings.TrimPrefix(color, "lab-") }
func nsEnd(color string) string   { return color + "1" }

// Steps returns the lab's steps in order.
func Steps() []steps.Step {
	return []steps.Step{NamedStep, VethStep, AddressStep, BridgeStep, NATStep, PublishStep, QuizStep}
}

// Each Setup builds the state the step starts from out of the earlier
// steps' Solves. They are set here, not in the step values, because
// solveThrough reads Steps() and a variable cannot refer to itself.
func init() {
	VethStep.Setup = solveThrough(VethStep.ID)
	AddressStep.Setup = solveThrough(AddressStep.ID)
	BridgeStep.Setup = solveThrough(BridgeStep.ID)
	NATStep.Setup = solveThrough(NATStep.ID)
	PublishStep.Setup = solveThrough(PublishStep.ID)
}

// solveThrough runs the Solve of every step before s, in order: the Setup
// of a step that builds on earlier ones.
func solveThrough(last string) func(ctx context.Context, env *steps.Env) error {
	return func(ctx context.Context, env *steps.Env) error {
		if err := recordHost(env); err != nil {
			return err
		}
		for _, s := range Steps() {
			if s.ID == last {
				return nil
			}
			if s.Solve != nil {
				if err := s.Solve(ctx, env); err != nil {
					return fmt.Errorf("set up %s: %w", last, err)
				}
			}
		}
		return nil
	}
}

// ignoreExist lets a Solve run on work that is partly done already.
func ignoreExist(err error) error {
	if netdev.IsExist(err) {
		return nil
	}
	return err
}

// run runs fns in order and stops at the first error.
func run(fns ...func() error) error {
	for _, fn := range fns {
		if err := fn(); err != nil {
			return err
		}
	}
	return nil
}

// isLabRule tells the iptables rules this lab, or a learner following it,
// adds: they name a lab- interface, an address of 10.200.0.0/16, or carry
// the comment "lab".
func isLabRule(r netdev.Rule) bool {
	if c, ok := r.Arg("--comment"); ok && c == "lab" {
		return true
	}
	for _, flag := range []string{"-i", "-o"} {
		if v, ok := r.Arg(flag); ok && strings.HasPrefix(v, "lab-") {
			return true
		}
	}
	return r.Mentions("10.200.")
}

// deleteLabRules removes the lab's rules from the chains the lab uses.
func deleteLabRules(chains ...[2]string) error {
	var errs []error
	for _, c := range chains {
		err := netdev.DeleteRulesWhere(c[0], c[1], isLabRule)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Reset removes what no single step's Cleanup owns: namespaces and links
// of checks that crashed (lab-chk-*), stray lab links on the host, and the
// lab's rules in every chain it uses. It runs after every step's Cleanup.
func Reset(ctx context.Context, env *steps.Env) error {
	var errs []error
	names, err := knetns.List()
	errs = append(errs, err)
	for _, n := range names {
		if strings.HasPrefix(n, probe.OutsideNetnsPrefix) || n == red || n == blue || n == green {
			errs = append(errs, knetns.KillAll(n), knetns.DeleteNamed(n))
		}
	}
	links, err := netdev.Links("")
	errs = append(errs, err)
	for _, l := range links {
		if isLabLink(l.Name) {
			errs = append(errs, netdev.DeleteLink("", l.Name))
		}
	}
	errs = append(errs,
		deleteLabRules([2]string{"nat", "POSTROUTING"}, [2]string{"nat", "PREROUTING"},
			[2]string{"nat", "OUTPUT"}, [2]string{"filter", "FORWARD"}),
		restoreForwarding(env),
		releaseRunNetns(env))
	if err := os.Remove(probe.OutsideLock); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// isLabLink tells the host links of this lab by name: the ones the
// lesson names (also when a learner left them on the host) and the checks'
// outside links.
func isLabLink(name string) bool {
	if strings.HasPrefix(name, probe.OutsideNetnsPrefix) || name == bridge || name == redVeth || name == blueVeth {
		return true
	}
	for _, c := range colors {
		if name == hostEnd(c) || name == nsEnd(c) {
			return true
		}
	}
	return false
}

// recordHost notes, in the workspace, the host settings the lab changes
// but cannot recognise as its own later: whether /run/netns was a mount
// point, and net.ipv4.ip_forward. The first step's Setup (at `lab start`)
// and every later Setup call it; what is recorded already is kept.
func recordHost(env *steps.Env) error {
	return errors.Join(recordRunNetns(env), recordForwarding(env))
}

// forwardFile records the host's net.ipv4.ip_forward before the lab
// changed it, so Cleanup can put it back.
func forwardFile(env *steps.Env) string { return filepath.Join(env.Dir, "ip_forward.orig") }

// recordForwarding saves the host's ip_forward once.
func recordForwarding(env *steps.Env) error {
	path := forwardFile(env)
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	on, err := netdev.Forwarding("")
	if err != nil {
		return err
	}
	v := "0\n"
	if on {
		v = "1\n"
	}
	if err := os.MkdirAll(env.Dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(v), 0o644)
}

// restoreForwarding puts back the recorded ip_forward and forgets it.
func restoreForwarding(env *steps.Env) error {
	path := forwardFile(env)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := netdev.SetForwarding("", strings.TrimSpace(string(b)) == "1"); err != nil {
		return err
	}
	return os.Remove(path)
}

// ignoreMissingNetns runs fn unless namespace ns is gone, in which case
// everything fn would remove went with it.
func ignoreMissingNetns(ns string, fn func() error) error {
	if ok, err := knetns.IsNetns(knetns.Path(ns)); err != nil || !ok {
		return nil
	}
	return fn()
}

func sleep() { time.Sleep(10 * time.Millisecond) }

// runNetnsFile records whether /run/netns was a mount point before the lab
// started: `ip netns add` makes it one and never undoes that, so a reset
// releases it only if the lab's namespaces were the first.
func runNetnsFile(env *steps.Env) string { return filepath.Join(env.Dir, "run-netns.orig") }

func recordRunNetns(env *steps.Env) error {
	path := runNetnsFile(env)
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	mounted, err := knetns.DirIsMount()
	if err != nil {
		return err
	}
	v := "absent\n"
	if mounted {
		v = "mounted\n"
	}
	if err := os.MkdirAll(env.Dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(v), 0o644)
}

// releaseRunNetns unmounts /run/netns when it was not a mount point before
// the lab and holds no namespace any more, then forgets the record.
func releaseRunNetns(env *steps.Env) error {
	path := runNetnsFile(env)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if strings.TrimSpace(string(b)) == "absent" {
		if err := knetns.ReleaseDir(); err != nil {
			return err
		}
	}
	if names, _ := knetns.List(); len(names) > 0 {
		return nil // keep the record: another reset may still release it
	}
	return os.Remove(path)
}

// forwardDropHint explains lost packets on hosts whose filter FORWARD
// chain drops by default, as Docker sets it: forwarded packets of the lab
// (and, with br_netfilter, even bridged ones) are then dropped unless a
// rule accepts them.
func forwardDropHint() string {
	if p, err := netdev.Policy("filter", "FORWARD"); err != nil || p != "DROP" {
		return ""
	}
	return "this host's iptables FORWARD chain drops by default (Docker sets that): accept the lab's traffic with " +
		"iptables -A FORWARD -i " + bridge + " -j ACCEPT; iptables -A FORWARD -o " + bridge + " -j ACCEPT. "
}
