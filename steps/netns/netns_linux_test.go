package netnslab

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/checker/probe"
	"github.com/lab-edu/lab/kernel/kerneltest"
	knetns "github.com/lab-edu/lab/kernel/netns"
	"github.com/lab-edu/lab/steps"
	"github.com/lab-edu/lab/steps/stepstest"
)

// netKinds are the parts of a host snapshot this lab may change.
var netKinds = []string{"netns", "link", "iptables", "sysctl"}

// netState is a snapshot of netKinds, plus the mounts of /run/netns.
func netState(t testing.TB) stepstest.State {
	t.Helper()
	all := stepstest.Snapshot(t)
	s := stepstest.State{}
	for _, k := range netKinds {
		s[k] = all[k]
	}
	for _, m := range all["mount"] {
		if strings.HasPrefix(m, "/run/netns") {
			s["mount"] = append(s["mount"], m)
		}
	}
	return s
}

// sameNet fails when the network state differs, re-reading for a while:
// a namespace's links go away asynchronously once its last user left.
func sameNet(t testing.TB, before stepstest.State) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		diff := stepstest.Diff(before, netState(t))
		if diff == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("network state changed (- gone, + left behind):\n%s", diff)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startAt prepares a root test of step id: a fresh env, Setup run, and a
// cleanup of every step through id that must leave the network state as
// it was.
func startAt(t *testing.T, id string) (steps.Step, *steps.Env) {
	t.Helper()
	kerneltest.Requires(t, kerneltest.Root, kerneltest.Tool("ip"), kerneltest.Tool("iptables"), kerneltest.Tool("bash"), kerneltest.Tool("busybox"))
	env := stepstest.NewEnv(t, ID)
	before := netState(t)
	all := Steps()
	i := slices.IndexFunc(all, func(s steps.Step) bool { return s.ID == id })
	if i < 0 {
		t.Fatalf("no step %s", id)
	}
	t.Cleanup(func() {
		if err := cleanupThrough(i, env); err != nil {
			t.Error(err)
		}
		sameNet(t, before)
	})
	stepstest.Do(t, all[i].Setup, t.Context(), env)
	return all[i], env
}

// cleanupThrough is labs.CleanupThrough (which this package cannot import).
func cleanupThrough(last int, env *steps.Env) error {
	var errs []error
	all := Steps()
	for i := last; i >= 0; i-- {
		if c := all[i].Cleanup; c != nil {
			errs = append(errs, c(context.Background(), env))
		}
	}
	return errors.Join(errs...)
}

// sh runs shell commands, as a learner would type them.
func sh(t *testing.T, script string) {
	t.Helper()
	out, err := exec.Command("bash", "-ec", script).CombinedOutput()
	if err != nil {
		t.Fatalf("bash -ec %q: %v\n%s", script, err, out)
	}
}

// TestWrongWorkFails tries the mistakes learners make and wants each to
// fail with a reason (and hint) that names it.
func TestWrongWorkFails(t *testing.T) {
	tests := []struct {
		name, step, script string
		reason, hint       string // substrings the result must contain
	}{
		{
			name: "plain file instead of a namespace", step: "netns/named",
			script: "ip netns add lab-blue; ip -n lab-blue link set lo up; touch /run/netns/lab-red",
			reason: "/run/netns/lab-red exists but is not a network namespace", hint: "ip netns add lab-red",
		},
		{
			name: "loopback left down", step: "netns/named",
			script: "ip netns add lab-red; ip netns add lab-blue; ip -n lab-red link set lo up",
			reason: "lo DOWN in lab-blue", hint: "ip -n lab-blue link set lo up",
		},
		{
			name: "both veth ends on the host", step: "netns/veth",
			script: "ip link add lab-red0 type veth peer name lab-blue0",
			reason: "found lab-red0 on the host", hint: "ip link set lab-red0 netns lab-red",
		},
		{
			name: "one end moved, the other still on the host", step: "netns/veth",
			script: "ip link add lab-red0 type veth peer name lab-blue0; ip link set lab-red0 netns lab-red",
			reason: "lab-blue0 still on the host", hint: "ip link set lab-blue0 netns lab-blue",
		},
		{
			name: "addresses in different subnets", step: "netns/address",
			script: `ip -n lab-red addr add 10.200.1.1/24 dev lab-red0
				ip -n lab-blue addr add 10.200.2.2/24 dev lab-blue0
				ip -n lab-red link set lab-red0 up; ip -n lab-blue link set lab-blue0 up`,
			reason: "different subnets (10.200.1.0/24 and 10.200.2.0/24)", hint: "same /24",
		},
		{
			name: "a link left DOWN", step: "netns/address",
			script: `ip -n lab-red addr add 10.200.1.1/24 dev lab-red0
				ip -n lab-blue addr add 10.200.1.2/24 dev lab-blue0
				ip -n lab-red link set lab-red0 up`,
			reason: "lab-blue0 DOWN in lab-blue", hint: "ip -n lab-blue link set lab-blue0 up",
		},
		{
			name: "a bridge with a port missing", step: "netns/bridge",
			script: `ip link add lab-br0 type bridge; ip link set lab-br0 up
				ip netns add lab-green; ip -n lab-green link set lo up
				i=2
				for color in red blue green; do
				  ip link add lab-br-$color type veth peer name lab-${color}1
				  [ $color = green ] || ip link set lab-br-$color master lab-br0
				  ip link set lab-br-$color up
				  ip link set lab-${color}1 netns lab-$color
				  ip -n lab-$color addr add 10.200.2.$i/24 dev lab-${color}1
				  ip -n lab-$color link set lab-${color}1 up
				  i=$((i + 1))
				done`,
			reason: "lab-br-green is not a port of any bridge", hint: "ip link set lab-br-green master lab-br0",
		},
		{
			name: "forwarding off", step: "netns/nat",
			script: `ip addr add 10.200.2.1/24 dev lab-br0
				ip -n lab-red route add default via 10.200.2.1
				echo 0 > /proc/sys/net/ipv4/ip_forward
				iptables -t nat -A POSTROUTING -s 10.200.2.0/24 ! -o lab-br0 -j MASQUERADE`,
			reason: "net.ipv4.ip_forward = 0", hint: "echo 1 > /proc/sys/net/ipv4/ip_forward",
		},
		{
			name: "a NAT rule for the wrong subnet", step: "netns/nat",
			script: `ip addr add 10.200.2.1/24 dev lab-br0
				ip -n lab-red route add default via 10.200.2.1
				echo 1 > /proc/sys/net/ipv4/ip_forward
				iptables -t nat -A POSTROUTING -s 10.200.1.0/24 ! -o lab-br0 -j MASQUERADE`,
			reason: "with source 10.200.2.2, not the host's 198.51.100.2: they were forwarded but not masqueraded",
			hint:   "matches -s 10.200.1.0/24, which does not contain lab-red's 10.200.2.2",
		},
		{
			name: "a DNAT to the wrong port", step: "netns/publish",
			script: `ip -n lab-blue route add default via 10.200.2.1
				mkdir -p $WORK/www
				ip netns exec lab-blue busybox httpd -p 80 -h $WORK/www
				iptables -t nat -A PREROUTING -p tcp --dport 8080 -j DNAT --to-destination 10.200.2.3:8080`,
			reason: "connection refused",
			hint:   "sends to port 8080, but the server in lab-blue listens on port 80",
		},
		{
			name: "no server", step: "netns/publish",
			script: `ip -n lab-blue route add default via 10.200.2.1
				iptables -t nat -A PREROUTING -p tcp --dport 8080 -j DNAT --to-destination 10.200.2.3:80`,
			reason: "expected a TCP socket listening on port 80 in lab-blue, found none",
			hint:   "busybox httpd -p 80",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, env := startAt(t, tt.step)
			sh(t, "WORK="+env.Dir+"\n"+tt.script)
			r := s.Verify(t.Context(), env.Host)
			if r.Status != checker.Fail {
				t.Fatalf("status = %s (%s), want fail", r.Status, r.Reason)
			}
			if !strings.Contains(r.Reason, tt.reason) {
				t.Errorf("reason = %q, want it to contain %q", r.Reason, tt.reason)
			}
			if !strings.Contains(r.Hint, tt.hint) {
				t.Errorf("hint = %q, want it to contain %q", r.Hint, tt.hint)
			}
		})
	}
}

// TestSolutionShell runs each step's Solution block literally with bash,
// on the state the step's Setup builds, and wants the check to pass.
func TestSolutionShell(t *testing.T) {
	for _, s := range Steps() {
		if s.Quiz != nil {
			continue // its solution is a `lab check --answer`, covered by the lifecycle test
		}
		t.Run(s.ID, func(t *testing.T) {
			_, env := startAt(t, s.ID)
			if r := s.Verify(t.Context(), env.Host); r.Status != checker.Fail {
				t.Fatalf("before the solution: status = %s (%s), want fail", r.Status, r.Reason)
			}
			stepstest.RunSolution(t, s.ID, env, 20*time.Second)
			if r := stepstest.PassesSoon(t.Context(), s, env.Host, 2*time.Second); r.Status != checker.Pass {
				t.Fatalf("after the solution: status = %s: %s (hint: %s)", r.Status, r.Reason, r.Hint)
			}
		})
	}
}

// TestResetAfterCrash builds the whole lab, adds what a crash leaves (a
// check's outside network, a learner's extra rule, a stray link), then
// resets as `lab reset netns` does from a new process, and wants the host
// as it was.
func TestResetAfterCrash(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root, kerneltest.Tool("ip"), kerneltest.Tool("iptables"), kerneltest.Tool("busybox"))
	env := stepstest.NewEnv(t, ID)
	before := netState(t)
	t.Cleanup(func() { _ = cleanupThrough(len(Steps())-1, env); _ = Reset(context.Background(), env) })
	last := PublishStep
	stepstest.Do(t, last.Setup, t.Context(), env)
	stepstest.Do(t, last.Solve, t.Context(), env)
	if r := last.Verify(t.Context(), env.Host); !r.OK() {
		t.Fatalf("solved lab: %s", r.Reason)
	}
	if _, err := probe.NewOutside(); err != nil { // never closed: a crashed check
		t.Fatal(err)
	}
	sh(t, `iptables -A FORWARD -i lab-br0 -j ACCEPT
		iptables -t nat -A OUTPUT -p tcp -d 127.0.0.1 --dport 8080 -j DNAT --to-destination 10.200.2.3:80
		ip link add lab-red0 type veth peer name lab-blue0`)
	if b, _ := os.ReadFile("/proc/sys/net/ipv4/ip_forward"); strings.TrimSpace(string(b)) != "1" {
		t.Fatalf("ip_forward = %q after the solution, want 1", b)
	}

	servers, err := knetns.Pids(blue)
	if err != nil || len(servers) == 0 {
		t.Fatalf("Pids(%s) = %v, %v: want the web server", blue, servers, err)
	}

	// A new process knows nothing but the workspace directory.
	fresh := *env
	if err := cleanupThrough(len(Steps())-1, &fresh); err != nil {
		t.Fatal(err)
	}
	if err := Reset(context.Background(), &fresh); err != nil {
		t.Fatal(err)
	}
	sameNet(t, before)
	for _, pid := range servers {
		if alive(pid) {
			t.Errorf("process %d (the server in %s) still runs after the reset", pid, blue)
		}
	}
	// And a second reset finds nothing to do.
	if err := errors.Join(cleanupThrough(len(Steps())-1, &fresh), Reset(context.Background(), &fresh)); err != nil {
		t.Fatalf("second reset: %v", err)
	}
}

// BenchmarkCheck measures each step's check on the solved lab.
func BenchmarkCheck(b *testing.B) {
	kerneltest.Requires(b, kerneltest.Root, kerneltest.Tool("busybox"))
	env := stepstest.NewEnv(b, ID)
	b.Cleanup(func() { _ = cleanupThrough(len(Steps())-1, env); _ = Reset(context.Background(), env) })
	for _, s := range Steps() {
		if s.Solve != nil {
			stepstest.Do(b, s.Solve, context.Background(), env)
		}
	}
	for _, s := range Steps() {
		b.Run(s.Slug(), func(b *testing.B) {
			for b.Loop() {
				if r := s.Verify(context.Background(), env.Host); !r.OK() {
					b.Fatalf("%s: %s", s.ID, r.Reason)
				}
			}
		})
	}
}

// alive reports whether pid runs (a zombie waiting for its parent, the
// test process, does not count).
func alive(pid int) bool {
	deadline := time.Now().Add(2 * time.Second)
	for {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return false
		}
		if f := strings.Fields(string(b)); len(f) > 2 && f[2] == "Z" {
			return false
		}
		if time.Now().After(deadline) {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
}
