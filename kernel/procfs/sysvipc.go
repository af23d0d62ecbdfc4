package procfs

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"
)

// SysvIPC is one System V IPC object, a line of /proc/sysvipc/msg, shm or
// sem. Those files list the objects of the reader's IPC namespace (the
// namespace of the thread that opened the file), which is how a checker
// that joined a namespace sees its queues.
type SysvIPC struct {
	Key    int32             // the key given to msgget/shmget/semget (IPC_PRIVATE is 0)
	ID     int               // msqid, shmid or semid
	Fields map[string]string // every column by header name ("perms", "cuid", "qnum"...)
}

// ParseSysvIPC parses one of the /proc/sysvipc files: a header line of
// column names, then one object per line.
func ParseSysvIPC(r io.Reader) ([]SysvIPC, error) {
	sc := bufio.NewScanner(r)
	if !sc.Scan() {
		return nil, sc.Err()
	}
	header := strings.Fields(sc.Text())
	if len(header) < 2 || header[0] != "key" {
		return nil, fmt.Errorf("parse sysvipc header %q: want key first", sc.Text())
	}
	var out []SysvIPC
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) < 2 {
			return nil, fmt.Errorf("parse sysvipc line %q: too few fields", sc.Text())
		}
		key, err := strconv.ParseInt(f[0], 10, 32)
		if err != nil {
			return nil, fmt.Errorf("parse sysvipc key %q: %w", f[0], err)
		}
		id, err := strconv.Atoi(f[1])
		if err != nil {
			return nil, fmt.Errorf("parse sysvipc id %q: %w", f[1], err)
		}
		o := SysvIPC{Key: int32(key), ID: id, Fields: map[string]string{}}
		for i, name := range header {
			if i < len(f) {
				o.Fields[name] = f[i]
			}
		}
		out = append(out, o)
	}
	return out, sc.Err()
}

// ReadSysvIPC reads proc/sysvipc/KIND ("msg", "shm" or "sem") from fsys.
func ReadSysvIPC(fsys fs.FS, kind string) ([]SysvIPC, error) {
	f, err := fsys.Open("proc/sysvipc/" + kind)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseSysvIPC(f)
}
