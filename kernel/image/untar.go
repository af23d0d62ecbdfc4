package image

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/lab-edu/lab/kernel/overlay"
)

// Unpack extracts a layer tar into dir, which must exist and be empty, so
// that dir can serve as an overlayfs lower layer:
//
//   - ".wh.NAME" entries become overlayfs whiteouts (a character device
//     0/0 named NAME) and ".wh..wh..opq" marks its directory opaque
//     (trusted.overlay.opaque="y"): the image-spec's portable spelling of
//     a deletion turned into the kernel's.
//   - owners, modes (with setuid bits), times and xattrs are kept.
//
// Unpack refuses, with an error naming the entry, any archive that would
// write outside dir: names that are absolute or climb with "..", entries
// whose path goes through a symlink, relative symlinks that point above
// the layer, hard links to anything outside it. An absolute symlink alone
// is allowed: inside the container it resolves against the container's
// root, as /bin/sh -> /bin/busybox does in Alpine. Every file is created
// through an os.Root opened on dir, which makes the kernel (openat2 with
// RESOLVE_BENEATH) refuse any escape the checks above might miss.
//
// A truncated archive (no end-of-archive marker, or a file shorter than
// its header says) is an error too. On error dir holds a partial layer:
// callers unpack into a staging directory they then remove.
func Unpack(r io.Reader, dir string) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("open layer dir: %w", err)
	}
	defer root.Close()
	cr := &countingReader{r: r}
	tr := tar.NewReader(cr)
	u := unpacker{root: root, dirTimes: map[string]time.Time{}, chown: os.Geteuid() == 0}
	var dataEnd, dataSize int64
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			// A complete tar ends with two 512-byte zero blocks, after the
			// padding of the last file. Without them it was cut short.
			padding := (512 - dataSize%512) % 512
			if cr.n-dataEnd < padding+1024 {
				return errors.New("image: truncated tar: the end-of-archive marker is missing")
			}
			break
		}
		if err != nil {
			return fmt.Errorf("image: read tar: %w", err)
		}
		if err := u.entry(hdr, tr); err != nil {
			return err
		}
		dataEnd, dataSize = cr.n, hdr.Size
		if hdr.Typeflag != tar.TypeReg {
			dataSize = 0
		}
	}
	return u.finish()
}

type unpacker struct {
	root     *os.Root
	dirTimes map[string]time.Time // set last: later entries change a dir's mtime
	chown    bool                 // only root may chown; unprivileged tests skip it
}

// entry extracts one archive entry.
func (u *unpacker) entry(hdr *tar.Header, r io.Reader) error {
	name, err := localName(hdr.Name)
	if err != nil {
		return err
	}
	if name == "." {
		return u.attrs(".", hdr)
	}
	dir, base := path.Split(name)
	dir = strings.TrimSuffix(dir, "/")
	if dir == "" {
		dir = "."
	}
	if err := u.parents(hdr.Name, dir); err != nil {
		return err
	}
	// Whiteouts: the OCI spelling of a deletion.
	if base == overlay.OpaqueWhiteout {
		return setOpaqueAt(u.root, dir)
	}
	if strings.HasPrefix(base, overlay.WhiteoutPrefix) {
		target := path.Join(dir, strings.TrimPrefix(base, overlay.WhiteoutPrefix))
		if err := u.root.RemoveAll(target); err != nil {
			return fmt.Errorf("whiteout %s: %w", target, err)
		}
		return mknodAt(u.root, target, fs.ModeCharDevice|fs.ModeDevice, 0, 0)
	}
	// A later entry replaces an earlier one of the same name, except that
	// a directory stays a directory (its contents are kept).
	if fi, err := u.root.Lstat(name); err == nil {
		if !(fi.IsDir() && hdr.Typeflag == tar.TypeDir) {
			if err := u.root.RemoveAll(name); err != nil {
				return fmt.Errorf("replace %s: %w", name, err)
			}
		}
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := u.root.Mkdir(name, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("mkdir %s: %w", name, err)
		}
	case tar.TypeReg:
		if err := u.file(name, hdr, r); err != nil {
			return err
		}
	case tar.TypeSymlink:
		if !path.IsAbs(hdr.Linkname) && !filepath.IsLocal(path.Join(dir, hdr.Linkname)) {
			return fmt.Errorf("image: refusing symlink %q -> %q: it points outside the layer", hdr.Name, hdr.Linkname)
		}
		if err := u.root.Symlink(hdr.Linkname, name); err != nil {
			return fmt.Errorf("symlink %s: %w", name, err)
		}
	case tar.TypeLink:
		target, err := localName(hdr.Linkname)
		if err != nil || target == "." {
			return fmt.Errorf("image: refusing hard link %q -> %q: the target is outside the layer", hdr.Name, hdr.Linkname)
		}
		if err := u.parents(hdr.Linkname, path.Dir(target)); err != nil {
			return err
		}
		fi, err := u.root.Lstat(target)
		if err != nil || fi.IsDir() {
			return fmt.Errorf("image: refusing hard link %q -> %q: the target is not a file earlier in the layer", hdr.Name, hdr.Linkname)
		}
		if err := u.root.Link(target, name); err != nil {
			return fmt.Errorf("link %s: %w", name, err)
		}
		return nil // a hard link shares the target's owner, mode and times
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		mode := hdr.FileInfo().Mode()
		if err := mknodAt(u.root, name, mode, uint32(hdr.Devmajor), uint32(hdr.Devminor)); err != nil {
			return err
		}
	default:
		return fmt.Errorf("image: entry %q has unsupported type %q", hdr.Name, hdr.Typeflag)
	}
	return u.attrs(name, hdr)
}

// localName cleans an entry name and refuses it unless it stays inside
// the layer: no absolute path, no "..".
func localName(n string) (string, error) {
	clean := path.Clean(strings.TrimPrefix(n, "./"))
	if clean == "." || clean == "" {
		return ".", nil
	}
	if path.IsAbs(n) || !filepath.IsLocal(clean) {
		return "", fmt.Errorf("image: refusing entry %q: the path leaves the layer (path traversal)", n)
	}
	return clean, nil
}

// parents makes sure every directory above an entry exists and is a real
// directory: an archive that first makes "x -> /etc" and then writes
// "x/passwd" would otherwise write on the host.
func (u *unpacker) parents(entry, dir string) error {
	if dir == "." {
		return nil
	}
	cur := ""
	for _, part := range strings.Split(dir, "/") {
		cur = path.Join(cur, part)
		fi, err := u.root.Lstat(cur)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if err := u.root.Mkdir(cur, 0o755); err != nil {
				return fmt.Errorf("mkdir %s: %w", cur, err)
			}
		case err != nil:
			return fmt.Errorf("image: entry %q: %w", entry, err)
		case fi.Mode()&fs.ModeSymlink != 0:
			target, _ := u.root.Readlink(cur)
			return fmt.Errorf("image: refusing entry %q: it goes through the symlink %s -> %s", entry, cur, target)
		case !fi.IsDir():
			return fmt.Errorf("image: refusing entry %q: %s is not a directory", entry, cur)
		}
	}
	return nil
}

func (u *unpacker) file(name string, hdr *tar.Header, r io.Reader) error {
	f, err := u.root.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("create %s: %w", name, err)
	}
	n, err := io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("image: write %s: %w", name, err)
	}
	if n != hdr.Size {
		return fmt.Errorf("image: truncated tar: %s has %d of %d bytes", name, n, hdr.Size)
	}
	return nil
}

// attrs applies owner, then mode (chown clears setuid bits), xattrs and
// times. Symlinks get only their owner.
func (u *unpacker) attrs(name string, hdr *tar.Header) error {
	if u.chown {
		if err := u.root.Lchown(name, hdr.Uid, hdr.Gid); err != nil {
			return fmt.Errorf("chown %s: %w", name, err)
		}
	}
	if hdr.Typeflag == tar.TypeSymlink {
		return nil
	}
	if err := ChmodIn(u.root, name, hdr.FileInfo().Mode()&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)); err != nil {
		return fmt.Errorf("chmod %s: %w", name, err)
	}
	for key, value := range hdr.PAXRecords {
		attr, ok := strings.CutPrefix(key, "SCHILY.xattr.")
		// trusted.* would let an archive forge overlayfs's own marks
		// (opaque, redirect, origin): only whiteout entries make those.
		// Devices and fifos are not opened (a fifo would block).
		if !ok || strings.HasPrefix(attr, "trusted.") || (hdr.Typeflag != tar.TypeReg && hdr.Typeflag != tar.TypeDir) {
			continue
		}
		if err := setXattrAt(u.root, name, attr, []byte(value)); err != nil {
			return err
		}
	}
	if hdr.Typeflag == tar.TypeDir || name == "." {
		u.dirTimes[name] = hdr.ModTime
		return nil
	}
	if hdr.Typeflag == tar.TypeReg {
		return u.root.Chtimes(name, hdr.ModTime, hdr.ModTime)
	}
	return nil
}

// finish sets directory times, once every entry is in place (creating an
// entry changes its directory's mtime; setting a time changes nothing else).
func (u *unpacker) finish() error {
	for name, t := range u.dirTimes {
		if err := u.root.Chtimes(name, t, t); err != nil {
			return fmt.Errorf("set times of %s: %w", name, err)
		}
	}
	return nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
