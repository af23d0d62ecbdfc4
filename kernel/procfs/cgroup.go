package procfs

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"
)

// CgroupEntry is one line of /proc/PID/cgroup: "4:memory:/lab-mem".
// On cgroup v2 the only line is "0::/path" (ID 0, no controllers).
type CgroupEntry struct {
	ID          int
	Controllers []string // empty for the v2 line
	Path        string
}

// ParseCgroup parses /proc/PID/cgroup.
func ParseCgroup(r io.Reader) ([]CgroupEntry, error) {
	var out []CgroupEntry
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			return nil, fmt.Errorf("parse cgroup line %q: want ID:CONTROLLERS:PATH", sc.Text())
		}
		id, err := strconv.Atoi(parts[0])
		if err != nil {
			return nil, fmt.Errorf("parse cgroup line %q: %w", sc.Text(), err)
		}
		e := CgroupEntry{ID: id, Path: parts[2]}
		if parts[1] != "" {
			e.Controllers = strings.Split(parts[1], ",")
		}
		out = append(out, e)
	}
	return out, sc.Err()
}

// ReadCgroup reads proc/PID/cgroup from fsys.
func ReadCgroup(fsys fs.FS, pid int) ([]CgroupEntry, error) {
	f, err := fsys.Open(fmt.Sprintf("proc/%d/cgroup", pid))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseCgroup(f)
}

// IDMap is one line of /proc/PID/uid_map or gid_map: IDs Inside..Inside+Count-1
// in the process's user namespace are Outside..Outside+Count-1 in the
// parent namespace (the reader's, precisely).
type IDMap struct {
	Inside, Outside, Count uint64
}

// ParseIDMap parses a uid_map or gid_map file. An empty file means no
// mapping was written yet.
func ParseIDMap(r io.Reader) ([]IDMap, error) {
	var out []IDMap
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("parse id map line %q: want INSIDE OUTSIDE COUNT", sc.Text())
		}
		var m IDMap
		var err error
		for i, dst := range []*uint64{&m.Inside, &m.Outside, &m.Count} {
			if *dst, err = strconv.ParseUint(f[i], 10, 64); err != nil {
				return nil, fmt.Errorf("parse id map line %q: %w", sc.Text(), err)
			}
		}
		out = append(out, m)
	}
	return out, sc.Err()
}
