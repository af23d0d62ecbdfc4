package caps

import (
	"fmt"
	"io/fs"
	"math/bits"
	"strconv"
	"strings"
)

// Cap is one capability, numbered as in <linux/capability.h>: CAP_CHOWN is
// 0, CAP_NET_RAW is 13, CAP_SYS_ADMIN is 21.
type Cap int

// Capabilities the labs name in code.
const (
	Chown          Cap = 0
	DacOverride    Cap = 1
	Fowner         Cap = 3
	Kill           Cap = 5
	Setgid         Cap = 6
	Setuid         Cap = 7
	Setpcap        Cap = 8
	NetBindService Cap = 10
	NetAdmin       Cap = 12
	NetRaw         Cap = 13
	SysChroot      Cap = 18
	SysPtrace      Cap = 19
	SysAdmin       Cap = 21
	SysResource    Cap = 24
	Mknod          Cap = 27
	AuditWrite     Cap = 29
	Setfcap        Cap = 31
)

// MaxCap is the highest bit a 64-bit mask can hold.
const MaxCap Cap = 63

// String returns the lower-case name capsh and getcap print, "cap_net_raw".
// A capability the name table does not know (a kernel newer than the
// table) is "cap_N", which ParseCap reads back.
func (c Cap) String() string {
	if name, ok := tableName(c); ok {
		return "cap_" + name
	}
	return "cap_" + strconv.Itoa(int(c))
}

// ParseCap reads a capability name the way people write it: "cap_net_raw",
// "CAP_NET_RAW", "net_raw", "cap_13" or "13".
func ParseCap(s string) (Cap, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	name = strings.TrimPrefix(name, "cap_")
	if n, err := strconv.Atoi(name); err == nil {
		if n < 0 || Cap(n) > MaxCap {
			return 0, fmt.Errorf("caps: capability number %d out of range 0-%d", n, MaxCap)
		}
		return Cap(n), nil
	}
	for c := Cap(0); c <= MaxCap; c++ {
		if known, ok := tableName(c); ok && known == name {
			return c, nil
		}
	}
	return 0, fmt.Errorf("caps: unknown capability %q (names look like cap_net_raw; see capabilities(7))", s)
}

// ParseCaps reads a comma- or space-separated list of capability names
// ("cap_chown,cap_kill") into a Set.
func ParseCaps(s string) (Set, error) {
	var set Set
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' }) {
		c, err := ParseCap(f)
		if err != nil {
			return 0, err
		}
		set = set.With(c)
	}
	return set, nil
}

// LastCap reads /proc/sys/kernel/cap_last_cap from fsys (rooted at "/"):
// the highest capability this running kernel knows. Bits above it mean
// nothing to the kernel (PR_CAPBSET_DROP on them fails with EINVAL).
func LastCap(fsys fs.FS) (Cap, error) {
	b, err := fs.ReadFile(fsys, "proc/sys/kernel/cap_last_cap")
	if err != nil {
		return 0, fmt.Errorf("read cap_last_cap: %w", err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || n < 0 || Cap(n) > MaxCap {
		return 0, fmt.Errorf("caps: parse cap_last_cap %q", strings.TrimSpace(string(b)))
	}
	return Cap(n), nil
}

// Set is one capability set as the kernel shows it in /proc/PID/status: a
// 64-bit mask where bit N is capability N.
type Set uint64

// Of returns the set holding exactly caps.
func Of(caps ...Cap) Set {
	var s Set
	for _, c := range caps {
		s = s.With(c)
	}
	return s
}

// Full returns the set of every capability from 0 to last, what root gets
// on a kernel whose cap_last_cap is last.
func Full(last Cap) Set {
	if last >= MaxCap {
		return ^Set(0)
	}
	return Set(1)<<(uint(last)+1) - 1
}

// Has reports whether c is in the set.
func (s Set) Has(c Cap) bool { return c >= 0 && c <= MaxCap && s&(1<<uint(c)) != 0 }

// With returns the set plus c.
func (s Set) With(c Cap) Set { return s | 1<<uint(c) }

// Without returns the set minus c.
func (s Set) Without(c Cap) Set { return s &^ (1 << uint(c)) }

// Len is the number of capabilities in the set.
func (s Set) Len() int { return bits.OnesCount64(uint64(s)) }

// Caps lists the capabilities in the set, lowest first.
func (s Set) Caps() []Cap {
	var out []Cap
	for c := Cap(0); c <= MaxCap; c++ {
		if s.Has(c) {
			out = append(out, c)
		}
	}
	return out
}

// Names lists the names of the capabilities in the set.
func (s Set) Names() []string {
	var out []string
	for _, c := range s.Caps() {
		out = append(out, c.String())
	}
	return out
}

// String is the comma-separated names, the right-hand side of
// `capsh --decode`.
func (s Set) String() string { return strings.Join(s.Names(), ",") }

// Hex is the mask as /proc/PID/status prints it: 16 hex digits.
func (s Set) Hex() string { return fmt.Sprintf("%016x", uint64(s)) }

// Decode is what `capsh --decode=HEX` prints: "0x...=cap_a,cap_b".
func (s Set) Decode() string { return "0x" + s.Hex() + "=" + s.String() }

// ParseMask reads a mask as /proc/PID/status or capsh write it:
// "000001ffffffffff", "0x3000" or "3000" (always hexadecimal).
func ParseMask(s string) (Set, error) {
	hex := strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(s), "0x"), "0X")
	v, err := strconv.ParseUint(hex, 16, 64)
	if err != nil || hex == "" {
		return 0, fmt.Errorf("caps: %q is not a hexadecimal capability mask (like 0000000000003000)", s)
	}
	return Set(v), nil
}
