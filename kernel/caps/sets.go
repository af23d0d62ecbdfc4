package caps

import (
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/lab-edu/lab/kernel/procfs"
)

// Sets are the five capability sets of a thread (capabilities(7)):
//
//   - Effective: what the kernel checks on each privileged action.
//   - Permitted: the ceiling of effective; a capability dropped from
//     permitted is gone for good (until an execve grants it again).
//   - Inheritable: what may pass through an execve to a program whose
//     file marks it inheritable (and, for root, to any program).
//   - Bounding: the limit on what any execve can grant. Dropping from it
//     (prctl PR_CAPBSET_DROP) is one-way: nothing the process execs later
//     gets the capability back, not even a setuid-root or file-capability
//     binary.
//   - Ambient: kept across execve of ordinary programs by non-root users.
type Sets struct {
	Effective, Permitted, Inheritable, Bounding, Ambient Set
}

// SetNames are the names of the five sets, in the order of Sets.
var SetNames = []string{"effective", "permitted", "inheritable", "bounding", "ambient"}

// List returns the five sets in the order of SetNames.
func (s Sets) List() []Set {
	return []Set{s.Effective, s.Permitted, s.Inheritable, s.Bounding, s.Ambient}
}

// Lacks reports whether c is in none of the five sets.
func (s Sets) Lacks(c Cap) bool {
	for _, set := range s.List() {
		if set.Has(c) {
			return false
		}
	}
	return true
}

// Holding names the sets that hold c ("permitted", "bounding").
func (s Sets) Holding(c Cap) []string {
	var out []string
	for i, set := range s.List() {
		if set.Has(c) {
			out = append(out, SetNames[i])
		}
	}
	return out
}

// FromStatus takes the Cap* lines of a parsed /proc/PID/status.
func FromStatus(st procfs.Status) Sets {
	return Sets{
		Effective: Set(st.CapEff), Permitted: Set(st.CapPrm), Inheritable: Set(st.CapInh),
		Bounding: Set(st.CapBnd), Ambient: Set(st.CapAmb),
	}
}

// ReadSets reads the sets of process pid from fsys's /proc/PID/status
// (the sets of its main thread).
func ReadSets(fsys fs.FS, pid int) (Sets, error) {
	st, err := procfs.ReadStatus(fsys, pid)
	if err != nil {
		return Sets{}, fmt.Errorf("read capabilities of pid %d: %w", pid, err)
	}
	return FromStatus(st), nil
}

// Creds is what decides what a process may do: its user and group ids,
// its capability sets and its no_new_privs flag. A probe copies a
// process's Creds to run "as" it.
type Creds struct {
	Sets
	UID, GID   [3]int // real, effective, saved
	Groups     []int  // supplementary groups
	NoNewPrivs bool   // prctl(PR_SET_NO_NEW_PRIVS): execve grants nothing
}

// IsRoot reports whether the effective uid is 0.
func (c Creds) IsRoot() bool { return c.UID[1] == 0 }

// ReadCreds reads the credentials of process pid from /proc/PID/status.
func ReadCreds(fsys fs.FS, pid int) (Creds, error) {
	st, err := procfs.ReadStatus(fsys, pid)
	if err != nil {
		return Creds{}, fmt.Errorf("read credentials of pid %d: %w", pid, err)
	}
	return CredsFromStatus(st), nil
}

// CredsFromStatus takes the Uid, Gid, Groups, Cap* and NoNewPrivs lines
// of a parsed /proc/PID/status.
func CredsFromStatus(st procfs.Status) Creds {
	c := Creds{Sets: FromStatus(st), NoNewPrivs: st.NoNewPrivs}
	copy(c.UID[:], st.Uid[:3])
	copy(c.GID[:], st.Gid[:3])
	for _, f := range strings.Fields(st.Fields["Groups"]) {
		if g, err := strconv.Atoi(f); err == nil {
			c.Groups = append(c.Groups, g)
		}
	}
	return c
}

// Row is one line of a capability table: a capability and whether each
// set holds it.
type Row struct {
	Cap                                                  Cap
	Name                                                 string
	Effective, Permitted, Inheritable, Bounding, Ambient bool
}

// Rows lists every capability from 0 to last with its membership in each
// set: the table `lab caps show` prints.
func (s Sets) Rows(last Cap) []Row {
	rows := make([]Row, 0, int(last)+1)
	for c := Cap(0); c <= last; c++ {
		rows = append(rows, Row{
			Cap: c, Name: c.String(),
			Effective: s.Effective.Has(c), Permitted: s.Permitted.Has(c), Inheritable: s.Inheritable.Has(c),
			Bounding: s.Bounding.Has(c), Ambient: s.Ambient.Has(c),
		})
	}
	return rows
}
