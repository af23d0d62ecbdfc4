package procfs

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"
)

// Status is the parsed /proc/PID/status: every "Key:\tvalue" line in
// Fields, plus the ones the labs use, typed.
type Status struct {
	Fields     map[string]string
	Name       string
	Pid, PPid  int
	NSpid      []int  // the pid in each nested PID namespace, outermost first
	Uid, Gid   [4]int // real, effective, saved, filesystem
	CapInh     uint64 // inheritable
	CapPrm     uint64 // permitted
	CapEff     uint64 // effective
	CapBnd     uint64 // bounding set
	CapAmb     uint64 // ambient
	NoNewPrivs bool   // prctl(PR_SET_NO_NEW_PRIVS) was set
	State      string // "S (sleeping)"
}

// ParseStatus reads a /proc/PID/status file.
func ParseStatus(r io.Reader) (Status, error) {
	s := Status{Fields: map[string]string{}}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		s.Fields[key] = strings.TrimSpace(val)
	}
	if err := sc.Err(); err != nil {
		return s, fmt.Errorf("read status: %w", err)
	}
	var err error
	f := s.Fields
	s.Name, s.State = f["Name"], f["State"]
	s.Pid, _ = strconv.Atoi(f["Pid"])
	s.PPid, _ = strconv.Atoi(f["PPid"])
	s.NSpid = ints(f["NSpid"])
	copy(s.Uid[:], ints(f["Uid"]))
	copy(s.Gid[:], ints(f["Gid"]))
	s.NoNewPrivs = f["NoNewPrivs"] == "1"
	for key, dst := range map[string]*uint64{"CapInh": &s.CapInh, "CapPrm": &s.CapPrm, "CapEff": &s.CapEff, "CapBnd": &s.CapBnd, "CapAmb": &s.CapAmb} {
		if v, ok := f[key]; ok {
			if *dst, err = strconv.ParseUint(v, 16, 64); err != nil {
				return s, fmt.Errorf("parse status %s %q: %w", key, v, err)
			}
		}
	}
	return s, nil
}

// ReadStatus reads and parses proc/PID/status from fsys (rooted at "/").
func ReadStatus(fsys fs.FS, pid int) (Status, error) {
	f, err := fsys.Open(fmt.Sprintf("proc/%d/status", pid))
	if err != nil {
		return Status{}, err
	}
	defer f.Close()
	return ParseStatus(f)
}

func ints(s string) []int {
	var out []int
	for _, f := range strings.Fields(s) {
		if n, err := strconv.Atoi(f); err == nil {
			out = append(out, n)
		}
	}
	return out
}
