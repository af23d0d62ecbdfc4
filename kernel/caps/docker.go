package caps

import (
	"fmt"
	"strings"
)

// fsetid is CAP_FSETID (4): keep setuid/setgid bits when changing a file.
const fsetid Cap = 4

// DockerDefault is the capability set Docker (and containerd's default
// OCI spec) gives a container's process: 14 of the ~41, enough to chown,
// bind low ports, kill and switch users inside the container, but not to
// mount, load modules, change the clock or trace other processes.
var DockerDefault = Of(Chown, DacOverride, fsetid, Fowner, Mknod, NetRaw, Setgid, Setuid,
	Setfcap, Setpcap, NetBindService, SysChroot, Kill, AuditWrite)

// Adjust applies docker's --cap-add and --cap-drop to base: "ALL" in drop
// empties the set before the additions, "ALL" in add gives every
// capability up to last. Names may have the "CAP_" prefix or not, in any
// case.
func Adjust(base Set, add, drop []string, last Cap) (Set, error) {
	set := base
	for _, name := range drop {
		if strings.EqualFold(name, "all") {
			set = 0
			continue
		}
		c, err := ParseCap(name)
		if err != nil {
			return 0, fmt.Errorf("cap-drop: %w", err)
		}
		set &^= Of(c)
	}
	for _, name := range add {
		if strings.EqualFold(name, "all") {
			set |= Full(last)
			continue
		}
		c, err := ParseCap(name)
		if err != nil {
			return 0, fmt.Errorf("cap-add: %w", err)
		}
		if c > last {
			return 0, fmt.Errorf("cap-add: %s is not known to this kernel", name)
		}
		set |= Of(c)
	}
	return set, nil
}
