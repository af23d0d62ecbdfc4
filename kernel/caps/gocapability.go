package caps

// This is the only file that knows github.com/syndtr/gocapability. Moving
// to github.com/moby/sys/capability (its maintained fork, same API shape:
// NewPid2, Load, Set, Apply) means changing the import below and nothing
// else.

import (
	"fmt"

	capability "github.com/syndtr/gocapability/capability"
)

// tableName is the library's name of c without the "cap_" prefix, when
// its table knows c.
func tableName(c Cap) (string, bool) {
	name := capability.Cap(c).String()
	if name == "unknown" {
		return "", false
	}
	return name, true
}

// applyToThread sets the calling thread's bounding, effective, permitted,
// inheritable and ambient sets to s, for capabilities 0..last. The library
// does, in order: prctl(PR_CAPBSET_DROP, cap) for each capability missing
// from s.Bounding (which needs CAP_SETPCAP in the effective set, so it
// comes first), capset(2) for the three classic sets, then
// prctl(PR_CAP_AMBIENT, RAISE or LOWER) for each ambient capability.
//
// Preconditions: the goroutine is locked to its OS thread, since all three
// calls change only the calling thread's credentials.
func applyToThread(s Sets, last Cap, kinds applyKinds) error {
	c, err := capability.NewPid2(0) // 0: the calling thread
	if err != nil {
		return fmt.Errorf("caps: %w", err)
	}
	c.Clear(capability.CAPS | capability.BOUNDS | capability.AMBS)
	sets := []struct {
		which capability.CapType
		set   Set
	}{
		{capability.EFFECTIVE, s.Effective}, {capability.PERMITTED, s.Permitted},
		{capability.INHERITABLE, s.Inheritable}, {capability.BOUNDING, s.Bounding},
		{capability.AMBIENT, s.Ambient},
	}
	for _, x := range sets {
		for _, n := range (x.set & Full(last)).Caps() {
			c.Set(x.which, capability.Cap(n))
		}
	}
	var which capability.CapType
	if kinds&applyBounding != 0 {
		which |= capability.BOUNDS
	}
	if kinds&applyClassic != 0 {
		which |= capability.CAPS
	}
	if kinds&applyAmbient != 0 {
		which |= capability.AMBS
	}
	if err := c.Apply(which); err != nil {
		return fmt.Errorf("apply capability sets: %w", err)
	}
	return nil
}

// applyKinds chooses which sets applyToThread changes.
type applyKinds int

const (
	applyBounding applyKinds = 1 << iota
	applyClassic             // effective, permitted, inheritable (capset)
	applyAmbient
)
