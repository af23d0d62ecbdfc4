package probe

import (
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
)

// maxLinks is the kernel's limit on symbolic links followed in one path
// lookup (ELOOP beyond it).
const maxLinks = 40

// Resolved is a path inside a root file system followed to its end.
type Resolved struct {
	Path  string   // the final path, inside the root ("/bin/busybox")
	Links []string // each link followed: "/bin/sh -> /bin/busybox"
	Info  fs.FileInfo
}

// ResolveIn follows name (an absolute path inside root, "/bin/sh") the way
// the kernel does for a process whose root is root: absolute link targets
// start again at root, and ".." never climbs above it. Following the link
// on the host instead would be wrong: /bin/sh -> /bin/busybox would land on
// the host's busybox. The error says which component is missing.
func ResolveIn(fsys fs.FS, root, name string) (Resolved, error) {
	var res Resolved
	todo := strings.Split(strings.Trim(path.Clean("/"+name), "/"), "/")
	cur := "/"
	for hops := 0; len(todo) > 0; {
		part := todo[0]
		todo = todo[1:]
		switch part {
		case "", ".":
			continue
		case "..":
			cur = path.Dir(cur)
			continue
		}
		next := path.Join(cur, part)
		info, err := fs.Lstat(fsys, Rel(path.Join(root, next)))
		if err != nil {
			if len(res.Links) > 0 {
				return res, fmt.Errorf("%s does not exist inside the rootfs (followed %s): %w", next, strings.Join(res.Links, ", "), fs.ErrNotExist)
			}
			return res, fmt.Errorf("%s does not exist inside the rootfs: %w", next, fs.ErrNotExist)
		}
		if info.Mode().Type() == fs.ModeSymlink {
			if hops++; hops > maxLinks {
				return res, fmt.Errorf("too many levels of symbolic links at %s", next)
			}
			target, err := fs.ReadLink(fsys, Rel(path.Join(root, next)))
			if err != nil {
				return res, err
			}
			res.Links = append(res.Links, next+" -> "+target)
			if strings.HasPrefix(target, "/") {
				cur = "/"
			}
			todo = append(strings.Split(target, "/"), todo...)
			continue
		}
		if len(todo) > 0 && !info.IsDir() {
			return res, fmt.Errorf("%s is not a directory", next)
		}
		cur, res.Info = next, info
	}
	res.Path = cur
	if res.Info == nil {
		info, err := fs.Stat(fsys, Rel(root))
		if err != nil {
			return res, err
		}
		res.Info = info
	}
	return res, nil
}

// Interpreter returns the ELF program interpreter of the executable at
// name in fsys ("/lib64/ld-linux-x86-64.so.2" for a dynamically linked
// program), "" for a static one. A file that is not ELF is an error
// mentioning its first bytes (a script starts with "#!").
func Interpreter(fsys fs.FS, name string) (string, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	ra, ok := f.(io.ReaderAt)
	if !ok {
		return "", errors.New("probe: file does not support ReadAt")
	}
	ef, err := elf.NewFile(ra)
	if err != nil {
		head := make([]byte, 2)
		_, _ = ra.ReadAt(head, 0)
		if string(head) == "#!" {
			return "", fmt.Errorf("a script, not an ELF executable")
		}
		return "", fmt.Errorf("not an ELF executable: %w", err)
	}
	defer ef.Close()
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP {
			b, err := io.ReadAll(p.Open())
			if err != nil {
				return "", err
			}
			return strings.TrimRight(string(b), "\x00"), nil
		}
	}
	return "", nil
}
