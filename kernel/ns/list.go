package ns

import (
	"bufio"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"

	"github.com/lab-edu/lab/kernel/procfs"
)

// Namespace is one line of lsns(8): a namespace and the processes in it.
type Namespace struct {
	ID
	NProcs  int    `json:"nprocs"`
	PID     int    `json:"pid"`     // the lowest PID in the namespace
	UID     int    `json:"uid"`     // the owner of that process
	User    string `json:"user"`    // its user name, or the UID
	Command string `json:"command"` // its command line (the comm in [] when empty)
	PIDs    []int  `json:"pids"`
}

// List walks every process in fsys's /proc and groups them by namespace,
// as lsns(8) does: one Namespace per (kind, inode), in lsns's order (by
// inode, then by kind order). Processes whose links cannot be read (they
// exit during the walk, or the kernel's ptrace access check refuses) are
// left out, as lsns leaves them out. kinds limits the listing; none means
// every kind.
func List(fsys fs.FS, kinds ...Kind) ([]Namespace, error) {
	if len(kinds) == 0 {
		kinds = Kinds
	}
	pids, err := procfs.Pids(fsys)
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	users := readUsers(fsys)
	byID := map[ID]*Namespace{}
	for _, pid := range pids { // ascending, so the first process seen is the lowest
		for _, k := range kinds {
			id, err := Of(fsys, pid, k)
			if err != nil {
				continue
			}
			if n, ok := byID[id]; ok {
				n.NProcs++
				n.PIDs = append(n.PIDs, pid)
				continue
			}
			n := &Namespace{ID: id, NProcs: 1, PID: pid, PIDs: []int{pid}}
			n.UID = owner(fsys, pid)
			n.User = users[n.UID]
			if n.User == "" {
				n.User = strconv.Itoa(n.UID)
			}
			n.Command = command(fsys, pid)
			byID[id] = n
		}
	}
	out := make([]Namespace, 0, len(byID))
	for _, n := range byID {
		out = append(out, *n)
	}
	slices.SortFunc(out, func(a, b Namespace) int {
		if a.Inode != b.Inode {
			return compare(a.Inode, b.Inode)
		}
		return slices.Index(Kinds, a.Kind) - slices.Index(Kinds, b.Kind)
	})
	return out, nil
}

// Processes returns the PIDs of the processes in namespace id.
func Processes(fsys fs.FS, id ID) ([]int, error) {
	pids, err := procfs.Pids(fsys)
	if err != nil {
		return nil, err
	}
	var out []int
	for _, pid := range pids {
		if got, err := Of(fsys, pid, id.Kind); err == nil && got.Equal(id) {
			out = append(out, pid)
		}
	}
	return out, nil
}

func compare(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// owner is the real UID of the process (the Uid: line of its status, as
// seen from the reader's user namespace).
func owner(fsys fs.FS, pid int) int {
	st, err := procfs.ReadStatus(fsys, pid)
	if err != nil {
		return -1
	}
	return st.Uid[0]
}

// command is what lsns prints in its COMMAND column.
func command(fsys fs.FS, pid int) string {
	if args, err := procfs.Cmdline(fsys, pid); err == nil && len(args) > 0 {
		return strings.Join(args, " ")
	}
	comm, _ := procfs.Comm(fsys, pid)
	return comm
}

// readUsers maps UIDs to names from etc/passwd.
func readUsers(fsys fs.FS) map[int]string {
	users := map[int]string{}
	f, err := fsys.Open("etc/passwd")
	if err != nil {
		return users
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) < 3 {
			continue
		}
		if uid, err := strconv.Atoi(fields[2]); err == nil {
			if _, dup := users[uid]; !dup {
				users[uid] = fields[0]
			}
		}
	}
	return users
}
