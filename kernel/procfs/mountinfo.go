package procfs

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"
)

// Mount is one line of /proc/PID/mountinfo (see proc(5)):
//
//	36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//	ID P  dev  root  point opts    optional... - type source superopts
type Mount struct {
	ID, Parent   int
	Major, Minor int
	Root         string   // the path inside the filesystem that is mounted here
	Point        string   // the mount point, relative to the reader's root
	Options      string   // per-mount options
	Optional     []string // propagation: "shared:N", "master:N", "propagate_from:N", "unbindable"
	FSType       string
	Source       string
	SuperOptions string // per-superblock options (overlay's lowerdir=... are here)
}

// Shared reports whether the mount is in a peer group (propagation shared).
func (m Mount) Shared() bool { return m.optional("shared:") }

// Slave reports whether the mount receives propagation from a master.
func (m Mount) Slave() bool { return m.optional("master:") }

func (m Mount) optional(prefix string) bool {
	for _, o := range m.Optional {
		if strings.HasPrefix(o, prefix) {
			return true
		}
	}
	return false
}

// Propagation names the mount's propagation type the way findmnt -o
// PROPAGATION does: shared, slave, "shared,slave", unbindable or private.
func (m Mount) Propagation() string {
	switch {
	case m.Shared() && m.Slave():
		return "shared,slave"
	case m.Shared():
		return "shared"
	case m.Slave():
		return "slave"
	case m.optional("unbindable"):
		return "unbindable"
	}
	return "private"
}

// SuperOption returns the value of key=value in the superblock options.
func (m Mount) SuperOption(key string) (string, bool) {
	for _, o := range strings.Split(m.SuperOptions, ",") {
		if k, v, ok := strings.Cut(o, "="); ok && k == key {
			return v, true
		}
	}
	return "", false
}

// ParseMountInfo parses a mountinfo file.
func ParseMountInfo(r io.Reader) ([]Mount, error) {
	var out []Mount
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		pre, post, ok := strings.Cut(line, " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if !ok || len(f) < 6 || len(g) < 2 {
			return nil, fmt.Errorf("parse mountinfo line %q: too few fields", line)
		}
		m := Mount{Root: Unescape(f[3]), Point: Unescape(f[4]), Options: f[5], Optional: f[6:], FSType: g[0], Source: Unescape(g[1])}
		m.ID, _ = strconv.Atoi(f[0])
		m.Parent, _ = strconv.Atoi(f[1])
		if maj, min, ok := strings.Cut(f[2], ":"); ok {
			m.Major, _ = strconv.Atoi(maj)
			m.Minor, _ = strconv.Atoi(min)
		}
		if len(g) > 2 {
			m.SuperOptions = g[2]
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read mountinfo: %w", err)
	}
	return out, nil
}

// ReadMountInfo reads proc/PID/mountinfo from fsys; pid may be "self".
func ReadMountInfo(fsys fs.FS, pid string) ([]Mount, error) {
	f, err := fsys.Open("proc/" + pid + "/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseMountInfo(f)
}

// Find returns the last (topmost) mount at point.
func Find(mounts []Mount, point string) (Mount, bool) {
	for i := len(mounts) - 1; i >= 0; i-- {
		if mounts[i].Point == point {
			return mounts[i], true
		}
	}
	return Mount{}, false
}

// Unescape undoes the kernel's seq_file octal escapes in mountinfo fields
// and options ("\040" is a space, "\054" a comma). A backslash not followed
// by three octal digits is kept, so overlay's "\:" survives.
func Unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
