package cnet

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lab-edu/lab/kernel/netdev"
	"github.com/lab-edu/lab/steps/stepstest"
)

// After normal Detaches and after crashes at every point (a container that
// died without Detach, one whose namespace something still holds, a rule
// whose container has no lease, a veth whose state dir was removed), Prune
// and Teardown give the host back exactly as it was: links, iptables
// rules, namespaces, files, ip_forward.
func TestDetachPruneLeaveNothing(t *testing.T) {
	needHost(t)
	ctx := context.Background()
	host, err := netdev.OpenHost()
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	links, err := host.LinkSummaries()
	if err != nil {
		t.Fatal(err)
	}
	bridgeBefore := bridgeIndex(links) != 0
	if !bridgeBefore {
		// The bridge this test creates must remember that forwarding was
		// off, and Teardown must turn it off again: start from off.
		forwardOff(t)
	}
	before := networkState(t)

	root, gone := t.TempDir(), t.TempDir()
	port := func() Port { return Port{HostPort: freePort(t), ContainerPort: 80, Proto: "tcp"} }

	// 1. Attached, died, detached: the normal life.
	ns1 := newContainer(t)
	ep1, err := Attach(ctx, root, newID(t), int(ns1.Fd()), []Port{port()})
	if err != nil {
		t.Fatal(err)
	}
	// 2. Attached, died, never detached (lab was killed).
	ns2 := newContainer(t)
	ep2, err := Attach(ctx, root, newID(t), int(ns2.Fd()), []Port{port()})
	if err != nil {
		t.Fatal(err)
	}
	// 3. Attached, never detached, and its namespace is still held (by a
	//    process that leaked the descriptor, here this test).
	ns3 := newContainer(t)
	ep3, err := Attach(ctx, root, newID(t), int(ns3.Fd()), []Port{port()})
	if err != nil {
		t.Fatal(err)
	}
	// 4. A container of a state dir that was removed since.
	ns4 := newContainer(t)
	ep4, err := Attach(ctx, gone, newID(t), int(ns4.Fd()), []Port{port()})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(gone); err != nil {
		t.Fatal(err)
	}
	// 5. A rule left by a crash after its lease was removed.
	staleID := newID(t)
	stale := portRules(staleID, ep1.Addr.Addr(), port())
	if err := netdev.ApplyRules(stale, nil); err != nil {
		t.Fatal(err)
	}
	testVeths.Lock()
	testVeths.names = append(testVeths.names, ep1.HostVeth, ep2.HostVeth, ep3.HostVeth, ep4.HostVeth)
	testVeths.Unlock()

	ns1.Close()
	if err := Detach(ctx, root, ep1.ID); err != nil {
		t.Fatal(err)
	}
	ns2.Close()
	if err := Prune(ctx, root, func(string) bool { return false }); err != nil {
		t.Fatal(err)
	}
	if leases, _ := listLeases(root); len(leases) != 0 {
		t.Errorf("leases left: %v", leases)
	}
	rules, err := netdev.TableRules("nat")
	if err != nil {
		t.Fatal(err)
	}
	ours := []string{shortID(ep1.ID), shortID(ep2.ID), shortID(ep3.ID), shortID(ep4.ID), shortID(staleID)}
	for _, r := range rules {
		if id12, ok := isContainerRule(r); ok && slices.Contains(ours, id12) {
			t.Errorf("rule left: %s", r)
		}
	}
	// The held namespace lost its veth: Prune deleted the host end.
	in, err := netdev.OpenNamespace(ns3)
	if err != nil {
		t.Fatal(err)
	}
	inLinks, err := in.LinkSummaries()
	in.Close()
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(inLinks, func(l netdev.LinkSummary) bool { return l.Name == "eth0" }) {
		t.Error("eth0 still in the held namespace after Prune")
	}
	ns3.Close()
	ns4.Close()

	// Give the host back as it was, and compare.
	waitVethsGone(t)
	if !bridgeBefore {
		if removed, err := Teardown(ctx); err != nil || !removed {
			t.Fatalf("teardown: removed %v, %v", removed, err)
		}
		if on, err := netdev.Forwarding(""); err != nil || on {
			t.Errorf("ip_forward after Teardown: on=%v (%v), want off as before the bridge", on, err)
		}
	}
	// Like stepstest.Same, with a few seconds for the kernel's asynchronous
	// teardown.
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		diff := stepstest.Diff(before, networkState(t))
		if diff == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("host state changed (- gone, + left behind):\n%s", diff)
		}
	}
}

// networkState is the part of the host snapshot cnet may change: its
// links (lab0, labv*, and this test's lab-t-b-*), the iptables rules about
// lab0 or 10.88.0.0/16 or marked lab-ctr, ip_forward, and lab files in
// /tmp, /run and /dev/shm. Cnet creates no cgroup, process or named
// namespace, and other packages' tests, which `go test ./...` runs at the
// same time, change those and rules of their own.
func networkState(t *testing.T) stepstest.State {
	all := stepstest.Snapshot(t)
	mine := func(item string) bool {
		return strings.HasPrefix(item, Bridge) || strings.HasPrefix(item, VethPrefix) || strings.HasPrefix(item, "lab-t-b-") ||
			strings.Contains(item, Bridge) || strings.Contains(item, RuleComment) || strings.Contains(item, "10.88.")
	}
	s := stepstest.State{"sysctl": all["sysctl"], "file": all["file"]}
	for _, kind := range []string{"link", "iptables"} {
		s[kind] = slices.DeleteFunc(all[kind], func(item string) bool { return !mine(item) || othersContainer(item) })
	}
	return s
}

// othersContainer reports whether a snapshot item is the veth or a port
// rule of a container this test binary did not attach (other packages'
// tests may run containers at the same time).
func othersContainer(item string) bool {
	testVeths.Lock()
	defer testVeths.Unlock()
	if strings.HasPrefix(item, VethPrefix) {
		return !slices.Contains(testVeths.names, item)
	}
	// iptables-save quotes a comment with a colon: --comment "lab-ctr:ID12".
	_, rest, _ := strings.Cut(item, "--comment ")
	if id12, ok := strings.CutPrefix(strings.TrimPrefix(rest, `"`), RuleComment+":"); ok {
		return !slices.ContainsFunc(testVeths.names, func(v string) bool {
			return strings.HasPrefix(id12, strings.TrimPrefix(v, VethPrefix))
		})
	}
	return false
}

// forwardOff turns net.ipv4.ip_forward off for the test and puts it back
// as it was afterwards.
func forwardOff(t *testing.T) {
	t.Helper()
	was, err := netdev.Forwarding("")
	if err != nil {
		t.Fatal(err)
	}
	if err := netdev.SetForwarding("", false); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := netdev.SetForwarding("", was); err != nil {
			t.Error(err)
		}
	})
}

// Teardown says it removed something only when something was there: a
// second call right after the first finds nothing (lab container prune
// --all printed "removed the lab0 bridge" on a host that had none).
func TestTeardownReportsOnlyWhatItRemoved(t *testing.T) {
	needHost(t)
	ctx := context.Background()
	if _, err := Teardown(ctx); err != nil {
		t.Fatal(err)
	}
	if removed, err := Teardown(ctx); err != nil || removed {
		t.Errorf("second Teardown: removed %v, %v; want false: nothing was left to remove", removed, err)
	}
}
