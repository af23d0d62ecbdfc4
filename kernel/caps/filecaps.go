package caps

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// XattrName is the extended attribute holding a file's capabilities
// (what setcap writes and getcap reads).
const XattrName = "security.capability"

// Revisions of the security.capability format (<linux/capability.h>).
const (
	Revision1 = 1 // VFS_CAP_REVISION_1: 32 capabilities, 12 bytes
	Revision2 = 2 // VFS_CAP_REVISION_2: 64 capabilities, 20 bytes
	Revision3 = 3 // VFS_CAP_REVISION_3: revision 2 plus the root uid of a user namespace, 24 bytes
)

const (
	vfsRevisionMask = 0xff000000
	vfsEffective    = 0x000001 // VFS_CAP_FLAGS_EFFECTIVE
)

// FileCaps are a file's capabilities, as execve applies them:
//
//	P'(permitted) = (P(inheritable) & F.Inheritable) | (F.Permitted & P(bounding)) | P'(ambient)
//	P'(effective) = F.Effective ? P'(permitted) : P'(ambient)
//
// The effective "set" of a file is one bit: "+e" means the new program
// starts with its permitted capabilities already effective, which is what
// a program that knows nothing of capabilities (busybox, ping of old)
// needs. Without it the capability sits in permitted and is never used.
type FileCaps struct {
	Permitted, Inheritable Set
	Effective              bool
	Revision               int    // 1, 2 or 3; 0 in a value to encode means 2
	RootID                 uint32 // revision 3: the user namespace root these caps apply to
}

// String is getcap's notation: "cap_net_bind_service=ep". Capabilities
// with the same flags are grouped, flags are e, i, p.
func (f FileCaps) String() string {
	type group struct {
		flags string
		names []string
	}
	var groups []*group
	byFlags := map[string]*group{}
	for _, c := range (f.Permitted | f.Inheritable).Caps() {
		flags := ""
		if f.Effective && f.Permitted.Has(c) {
			flags += "e"
		}
		if f.Inheritable.Has(c) {
			flags += "i"
		}
		if f.Permitted.Has(c) {
			flags += "p"
		}
		g, ok := byFlags[flags]
		if !ok {
			g = &group{flags: flags}
			byFlags[flags] = g
			groups = append(groups, g)
		}
		g.names = append(g.names, c.String())
	}
	parts := make([]string, 0, len(groups))
	for _, g := range groups {
		parts = append(parts, strings.Join(g.names, ",")+"="+g.flags)
	}
	if f.RootID != 0 {
		parts = append(parts, fmt.Sprintf("[rootid=%d]", f.RootID))
	}
	return strings.Join(parts, " ")
}

// ParseFileCaps decodes the bytes of a security.capability attribute:
// little-endian 32-bit words, first magic_etc (revision in the top byte,
// the effective flag in bit 0), then {permitted, inheritable} for
// capabilities 0-31, then for 32-63 (revisions 2 and 3), then rootid
// (revision 3).
func ParseFileCaps(b []byte) (FileCaps, error) {
	if len(b) < 4 {
		return FileCaps{}, fmt.Errorf("caps: security.capability of %d bytes is too short", len(b))
	}
	word := func(i int) uint32 { return binary.LittleEndian.Uint32(b[4*i:]) }
	magic := word(0)
	f := FileCaps{Effective: magic&vfsEffective != 0}
	want := map[uint32]int{1 << 24: 12, 2 << 24: 20, 3 << 24: 24}[magic&vfsRevisionMask]
	f.Revision = int(magic >> 24)
	if want == 0 {
		return FileCaps{}, fmt.Errorf("caps: unknown security.capability revision %#x", magic&vfsRevisionMask)
	}
	if len(b) != want {
		return FileCaps{}, fmt.Errorf("caps: security.capability revision %d has %d bytes, want %d", f.Revision, len(b), want)
	}
	f.Permitted, f.Inheritable = Set(word(1)), Set(word(2))
	if f.Revision >= Revision2 {
		f.Permitted |= Set(word(3)) << 32
		f.Inheritable |= Set(word(4)) << 32
	}
	if f.Revision == Revision3 {
		f.RootID = word(5)
	}
	return f, nil
}

// Bytes encodes f as a security.capability value. Revision 0 encodes as
// revision 2, what setcap writes in the initial user namespace.
func (f FileCaps) Bytes() ([]byte, error) {
	rev := f.Revision
	if rev == 0 {
		rev = Revision2
	}
	size := map[int]int{Revision1: 12, Revision2: 20, Revision3: 24}[rev]
	if size == 0 {
		return nil, fmt.Errorf("caps: cannot encode security.capability revision %d", rev)
	}
	if rev == Revision1 && (f.Permitted|f.Inheritable)>>32 != 0 {
		return nil, fmt.Errorf("caps: revision 1 holds only capabilities 0-31")
	}
	if f.RootID != 0 && rev != Revision3 {
		return nil, fmt.Errorf("caps: a root id needs revision 3")
	}
	b := make([]byte, size)
	put := func(i int, v uint32) { binary.LittleEndian.PutUint32(b[4*i:], v) }
	magic := uint32(rev) << 24
	if f.Effective {
		magic |= vfsEffective
	}
	put(0, magic)
	put(1, uint32(f.Permitted))
	put(2, uint32(f.Inheritable))
	if rev >= Revision2 {
		put(3, uint32(f.Permitted>>32))
		put(4, uint32(f.Inheritable>>32))
	}
	if rev == Revision3 {
		put(5, f.RootID)
	}
	return b, nil
}

// ParseFileCapsText reads the common forms of setcap's text:
// "cap_net_bind_service+ep", "cap_net_bind_service=ep",
// "cap_a,cap_b+eip". Several clauses are separated by spaces.
func ParseFileCapsText(s string) (FileCaps, error) {
	var f FileCaps
	for _, clause := range strings.Fields(s) {
		i := strings.IndexAny(clause, "=+")
		if i < 0 {
			return FileCaps{}, fmt.Errorf("caps: %q has no =flags or +flags (like cap_net_bind_service+ep)", clause)
		}
		set, err := ParseCaps(clause[:i])
		if err != nil {
			return FileCaps{}, err
		}
		for _, flag := range clause[i+1:] {
			switch flag {
			case 'e':
				f.Effective = true
			case 'p':
				f.Permitted |= set
			case 'i':
				f.Inheritable |= set
			default:
				return FileCaps{}, fmt.Errorf("caps: unknown flag %q in %q (flags are e, i, p)", flag, clause)
			}
		}
	}
	return f, nil
}
