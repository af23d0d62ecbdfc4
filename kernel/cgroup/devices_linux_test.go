package cgroup

import (
	"testing"

	"github.com/containerd/cgroups/v3/cgroup2"
)

// TestV2DeviceRulesBuildAFilter builds, without root, the eBPF device
// filter LimitDevices attaches on cgroup v2 from the container allow-list.
// A wildcard (-1) major or minor once reached containerd's builder as a
// nil pointer, and every container start panicked on v2.
func TestV2DeviceRulesBuildAFilter(t *testing.T) {
	rules := v2DeviceRules(ContainerDevices)
	if len(rules) != len(ContainerDevices)+1 || rules[0].Allow || rules[0].Type != "a" {
		t.Fatalf("rules = %+v, want deny-all first, then one rule per allowed kind", rules)
	}
	for _, r := range rules {
		if r.Major == nil || r.Minor == nil {
			t.Fatalf("rule %+v has no major or minor: -1 stands for any", r)
		}
	}
	insts, _, err := cgroup2.DeviceFilter(rules)
	if err != nil {
		t.Fatalf("DeviceFilter(%v) = %v", ContainerDevices, err)
	}
	if len(insts) == 0 {
		t.Fatal("DeviceFilter built an empty program")
	}
}
