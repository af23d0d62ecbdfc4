package build

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/lab-edu/lab/kernel/mount"
	"github.com/lab-edu/lab/kernel/overlay"
	"github.com/lab-edu/lab/kernel/reexec"
	"github.com/lab-edu/lab/kernel/rootfs"

	"github.com/lab-edu/lab/kernel/image"
)

const entryCopy = "build-copy"

func init() { reexec.Register(entryCopy, copyMain) }

// copyMain is the copy helper. It runs in a mount namespace of its own
// (CLONE_NEWNS at clone), so its overlay mounts vanish with it, whatever
// happens: nothing ever shows up in the host's mount table.
//
// It opens the source tree first, then chroots into the step's merged
// overlay: every destination path (and every symlink on the way, /bin ->
// usr/bin in a merged-/usr image) then resolves inside the image, as it
// would in a container, while sources are read through an os.Root opened
// before the chroot, which refuses any path that leads out of the context.
func copyMain() {
	var job copyJob
	readJob(&job)
	if err := mount.MakeRPrivate("/"); err != nil {
		helperFail(125, "build: %v", err)
	}
	if err := overlay.Mount(overlay.Layers{Lower: job.Lower, Upper: job.Upper, Work: job.Work}, job.Merged); err != nil {
		helperFail(125, "build: %v", err)
	}
	var src *os.Root
	if job.SourceDir != "" {
		if job.SourceLower != nil {
			if err := overlay.Mount(overlay.Layers{Lower: job.SourceLower}, job.SourceDir); err != nil {
				helperFail(125, "build: %v", err)
			}
		}
		var err error
		if src, err = os.OpenRoot(job.SourceDir); err != nil {
			helperFail(125, "build: open source: %v", err)
		}
	}
	if err := rootfs.Chroot(job.Merged); err != nil {
		helperFail(125, "build: %v", err)
	}
	if job.Mkdir != "" {
		if err := mkdirAll(job.Mkdir, 0, 0); err != nil {
			helperFail(1, "WORKDIR %s: %v", job.Mkdir, err)
		}
		os.Exit(0)
	}
	c := copier{src: src, job: job, uid: 0, gid: 0}
	if job.Chown != "" {
		var err error
		if c.uid, c.gid, err = lookupUser(job.Chown); err != nil {
			helperFail(1, "--chown=%s: %v", job.Chown, err)
		}
	}
	if err := c.run(); err != nil {
		helperFail(1, "%v", err)
	}
	os.Exit(0)
}

type copier struct {
	src      *os.Root
	job      copyJob
	uid, gid int
}

func (c *copier) run() error {
	var all []string
	for _, s := range c.job.Sources {
		matches, err := expandSource(c.src.FS(), s, c.job.Ignore)
		if err != nil {
			return err
		}
		all = append(all, matches...)
	}
	destDir := c.job.DestDir || len(all) > 1
	if fi, err := os.Stat(c.job.Dest); err == nil && fi.IsDir() {
		destDir = true
	}
	for _, m := range all {
		fi, err := c.src.Stat(m)
		if err != nil {
			return fmt.Errorf("%s: %w", m, err)
		}
		switch {
		case fi.IsDir():
			err = c.tree(m, c.job.Dest)
		case c.job.Unpack && fi.Mode().IsRegular() && c.isArchive(m):
			err = c.untar(m, c.job.Dest)
		default:
			dst := c.job.Dest
			if destDir {
				dst = path.Join(dst, path.Base(m))
			}
			if err = mkdirAll(path.Dir(dst), 0, 0); err == nil {
				err = c.entry(m, dst, fi)
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// tree copies the contents of the source directory dir into dst.
func (c *copier) tree(dir, dst string) error {
	if err := mkdirAll(dst, c.uid, c.gid); err != nil {
		return err
	}
	return fs.WalkDir(c.src.FS(), dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dir || c.job.Ignore.ignored(p) {
			return nil
		}
		rel := p // WalkDir names entries below "." without a "./" prefix
		if dir != "." {
			rel = strings.TrimPrefix(p, dir+"/")
		}
		fi, err := c.src.Lstat(p)
		if err != nil {
			return err
		}
		target := path.Join(dst, rel)
		// The parent may be an ignored directory that was not copied.
		if err := mkdirAll(path.Dir(target), c.uid, c.gid); err != nil {
			return err
		}
		return c.entry(p, target, fi)
	})
}

// entry copies one file, directory or symlink, then sets its owner (root,
// or --chown), mode (the source's, or --chmod) and modification time.
func (c *copier) entry(src, dst string, fi fs.FileInfo) error {
	mode := fi.Mode()
	if c.job.Chmod != 0 {
		mode = mode&^fs.ModePerm | fs.FileMode(c.job.Chmod&0o777)
	}
	switch {
	case fi.IsDir():
		if err := os.Mkdir(dst, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
	case mode&fs.ModeSymlink != 0:
		target, err := c.src.Readlink(src)
		if err != nil {
			return err
		}
		_ = os.Remove(dst)
		if err := os.Symlink(target, dst); err != nil {
			return err
		}
		return os.Lchown(dst, c.uid, c.gid)
	case mode.IsRegular():
		if err := c.file(src, dst); err != nil {
			return err
		}
	default:
		return nil // devices, fifos and sockets of the context are skipped
	}
	if err := os.Lchown(dst, c.uid, c.gid); err != nil {
		return err
	}
	if err := os.Chmod(dst, mode&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)); err != nil {
		return err
	}
	return os.Chtimes(dst, fi.ModTime(), fi.ModTime())
}

func (c *copier) file(src, dst string) error {
	in, err := c.src.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if fi, err := os.Lstat(dst); err == nil && !fi.Mode().IsRegular() {
		if err := os.RemoveAll(dst); err != nil {
			return err
		}
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	return nil
}

// isArchive reports whether an ADD source is a tar (plain or gzipped),
// which ADD unpacks instead of copying.
func (c *copier) isArchive(name string) bool {
	f, err := c.src.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	r, err := decompress(f)
	if err != nil {
		return false
	}
	_, err = tar.NewReader(r).Next()
	return err == nil
}

func decompress(f io.Reader) (io.Reader, error) {
	br := bufio.NewReader(f)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		return gzip.NewReader(br)
	}
	return br, nil
}

// untar extracts an ADD archive into dst through an os.Root opened on
// dst, so no entry ("../x", an absolute symlink) writes outside it.
func (c *copier) untar(name, dst string) error {
	if err := mkdirAll(dst, 0, 0); err != nil {
		return err
	}
	f, err := c.src.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	r, err := decompress(f)
	if err != nil {
		return fmt.Errorf("ADD %s: %w", name, err)
	}
	root, err := os.OpenRoot(dst)
	if err != nil {
		return err
	}
	defer root.Close()
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("ADD %s: %w", name, err)
		}
		if c.job.Chown != "" { // ADD --chown owns the unpacked files too
			hdr.Uid, hdr.Gid = c.uid, c.gid
		}
		if err := extract(root, hdr, tr); err != nil {
			return fmt.Errorf("ADD %s: entry %s: %w", name, hdr.Name, err)
		}
	}
}

func extract(root *os.Root, hdr *tar.Header, r io.Reader) error {
	n := path.Clean(strings.TrimPrefix(hdr.Name, "/"))
	if n == "." {
		return nil
	}
	if !filepath.IsLocal(n) {
		return errors.New("the path leaves the destination")
	}
	if d := path.Dir(n); d != "." {
		if err := root.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	mode := hdr.FileInfo().Mode().Perm()
	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := root.MkdirAll(n, mode); err != nil {
			return err
		}
	case tar.TypeReg:
		_ = root.Remove(n)
		f, err := root.OpenFile(n, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, mode)
		if err != nil {
			return err
		}
		_, err = io.Copy(f, r)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	case tar.TypeSymlink:
		_ = root.Remove(n)
		return root.Symlink(hdr.Linkname, n)
	case tar.TypeLink:
		target := path.Clean(strings.TrimPrefix(hdr.Linkname, "/"))
		if !filepath.IsLocal(target) {
			return errors.New("hard link target leaves the destination")
		}
		_ = root.Remove(n)
		return root.Link(target, n)
	default:
		return nil // devices and fifos are not unpacked
	}
	if err := root.Lchown(n, hdr.Uid, hdr.Gid); err != nil {
		return err
	}
	if err := image.ChmodIn(root, n, mode); err != nil {
		return err
	}
	return root.Chtimes(n, hdr.ModTime, hdr.ModTime)
}

// mkdirAll creates dir and its missing parents, owned by uid:gid.
func mkdirAll(dir string, uid, gid int) error {
	if fi, err := os.Stat(dir); err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%s exists and is not a directory", dir)
		}
		return nil
	}
	if err := mkdirAll(path.Dir(dir), uid, gid); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return os.Lchown(dir, uid, gid)
}

// lookupUser resolves USER[:GROUP] (names or numbers) against the image's
// /etc/passwd and /etc/group: the caller has chrooted into the image.
// A user given alone gets its primary group from /etc/passwd.
func lookupUser(spec string) (int, int, error) {
	user, group, hasGroup := strings.Cut(spec, ":")
	uid, gid := -1, -1
	if n, err := strconv.Atoi(user); err == nil {
		uid, gid = n, n
		if line, ok := findEntry("/etc/passwd", 2, user); ok {
			gid, _ = strconv.Atoi(line[3])
		}
	} else if line, ok := findEntry("/etc/passwd", 0, user); ok && len(line) > 3 {
		uid, _ = strconv.Atoi(line[2])
		gid, _ = strconv.Atoi(line[3])
	} else {
		return 0, 0, fmt.Errorf("no user %q in the image's /etc/passwd", user)
	}
	if hasGroup {
		if n, err := strconv.Atoi(group); err == nil {
			gid = n
		} else if line, ok := findEntry("/etc/group", 0, group); ok && len(line) > 2 {
			gid, _ = strconv.Atoi(line[2])
		} else {
			return 0, 0, fmt.Errorf("no group %q in the image's /etc/group", group)
		}
	}
	return uid, gid, nil
}

// findEntry returns the fields of the first line of a passwd-style file
// whose field col is value.
func findEntry(file string, col int, value string) ([]string, bool) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, false
	}
	for _, line := range strings.Split(string(raw), "\n") {
		f := strings.Split(line, ":")
		if len(f) > col && f[col] == value && len(f) >= 4 {
			return f, true
		}
	}
	return nil, false
}
