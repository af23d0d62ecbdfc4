package ns

import (
	"fmt"
	"strings"
)

// Kind is a namespace type, named as in /proc/PID/ns and lsns(8).
type Kind string

// The namespace kinds, with the Linux version that added each.
const (
	Mount  Kind = "mnt"    // mount points (2.6.19, the first: CLONE_NEWNS)
	UTS    Kind = "uts"    // hostname and NIS domain name (2.6.19)
	IPC    Kind = "ipc"    // System V IPC objects and POSIX message queues (2.6.19)
	PID    Kind = "pid"    // process IDs (2.6.24)
	Net    Kind = "net"    // network devices, addresses, routes, ports (2.6.29)
	User   Kind = "user"   // user and group IDs, capabilities (3.8)
	Cgroup Kind = "cgroup" // the cgroup root a process sees (4.6)
	Time   Kind = "time"   // CLOCK_MONOTONIC and CLOCK_BOOTTIME offsets (5.6)
)

// Kinds lists every kind in lsns's order.
var Kinds = []Kind{Mount, Net, Time, Cgroup, PID, User, UTS, IPC}

// The clone(2) and unshare(2) flags, from <linux/sched.h>. They are
// written out here, not taken from x/sys/unix, so that the pure parts of
// this package (and their tests) build on every OS.
const (
	CloneNewTime   uintptr = 0x00000080
	CloneNewNS     uintptr = 0x00020000
	CloneNewCgroup uintptr = 0x02000000
	CloneNewUTS    uintptr = 0x04000000
	CloneNewIPC    uintptr = 0x08000000
	CloneNewUser   uintptr = 0x10000000
	CloneNewPID    uintptr = 0x20000000
	CloneNewNet    uintptr = 0x40000000
)

var flags = map[Kind]uintptr{
	Mount: CloneNewNS, UTS: CloneNewUTS, IPC: CloneNewIPC, PID: CloneNewPID,
	Net: CloneNewNet, User: CloneNewUser, Cgroup: CloneNewCgroup, Time: CloneNewTime,
}

// CloneFlag returns the CLONE_NEW* flag of the kind (0 for an unknown kind).
func (k Kind) CloneFlag() uintptr { return flags[k] }

// String returns the kind's name.
func (k Kind) String() string { return string(k) }

// ParseKind accepts a kind as /proc/PID/ns names it ("mnt") or as
// unshare(1) and nsenter(1) spell the option ("mount", "network").
func ParseKind(s string) (Kind, error) {
	switch k := strings.ToLower(strings.TrimSpace(s)); k {
	case "mount":
		return Mount, nil
	case "network":
		return Net, nil
	default:
		if _, ok := flags[Kind(k)]; ok {
			return Kind(k), nil
		}
	}
	return "", fmt.Errorf("ns: unknown namespace kind %q: want one of mnt, uts, ipc, pid, net, user, cgroup, time", s)
}

// Flags ORs the clone flags of kinds: the Cloneflags of unshare -u -p
// is Flags(UTS, PID).
func Flags(kinds ...Kind) uintptr {
	var f uintptr
	for _, k := range kinds {
		f |= k.CloneFlag()
	}
	return f
}

// KindsOf returns the kinds whose flags are set in f, in Kinds order.
func KindsOf(f uintptr) []Kind {
	var out []Kind
	for _, k := range Kinds {
		if f&k.CloneFlag() != 0 {
			out = append(out, k)
		}
	}
	return out
}
