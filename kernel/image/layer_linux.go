package image

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/lab-edu/lab/kernel/overlay"
)

// WriteLayer writes the directory tree at dir as an OCI layer tar: the
// inverse of Unpack. Given an overlay upper dir it produces the layer
// `docker commit` and each build step make:
//
//   - a whiteout (character device 0/0) becomes an empty file ".wh.NAME";
//   - an opaque directory (trusted.overlay.opaque="y") gets a
//     ".wh..wh..opq" entry right after it;
//   - owners, modes, times, hard links and user.* / security.* xattrs are
//     kept; sockets are skipped (they cannot be archived).
//
// Given a merged overlay mount (or any plain tree) it is `docker export`:
// the kernel hides whiteouts and overlay xattrs there, so none are written.
//
// Entries are written in lexical order with uid/gid numbers only, so the
// same tree always gives the same bytes and the same digest. An upper dir
// that uses overlayfs features a tar cannot express (redirect_dir,
// metacopy: both off by default) is refused rather than archived wrong.
func WriteLayer(w io.Writer, dir string) error { return WriteLayerSkipping(w, dir, nil) }

// WriteLayerSkipping is WriteLayer leaving out the entries for which skip
// (given the slash-separated path inside dir, "etc/hosts") returns true,
// and everything below a skipped directory.
func WriteLayerSkipping(w io.Writer, dir string, skip func(name string) bool) error {
	tw := tar.NewWriter(w)
	links := map[[2]uint64]string{} // (dev, inode) of files with several links -> first name
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		name := filepath.ToSlash(rel)
		if skip != nil && skip(name) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if err := refuseOverlayFeatures(p); err != nil {
			return err
		}
		if overlay.IsWhiteout(fi) {
			parent, base := filepath.Split(name)
			return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: parent + overlay.WhiteoutPrefix + base,
				ModTime: fi.ModTime().Truncate(1e9), Format: tar.FormatPAX})
		}
		if fi.Mode()&fs.ModeSocket != 0 {
			return nil
		}
		hdr, err := header(p, name, fi, links)
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if hdr.Typeflag == tar.TypeReg && hdr.Size > 0 {
			if err := copyFileTo(tw, p, hdr.Size); err != nil {
				return err
			}
		}
		if d.IsDir() {
			opaque, err := overlay.IsOpaque(p)
			if err != nil {
				return err
			}
			if opaque {
				return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name + "/" + overlay.OpaqueWhiteout,
					ModTime: hdr.ModTime, Format: tar.FormatPAX})
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("archive %s: %w", dir, err)
	}
	return tw.Close()
}

// header builds the tar header of one file from lstat(2) and its xattrs.
func header(p, name string, fi fs.FileInfo, links map[[2]uint64]string) (*tar.Header, error) {
	st := fi.Sys().(*syscall.Stat_t)
	hdr := &tar.Header{
		Name: name, Mode: int64(unixMode(fi.Mode())), Uid: int(st.Uid), Gid: int(st.Gid),
		ModTime: fi.ModTime().Truncate(1e9), Format: tar.FormatPAX,
	}
	switch m := fi.Mode(); {
	case m.IsDir():
		hdr.Typeflag, hdr.Name = tar.TypeDir, name+"/"
	case m&fs.ModeSymlink != 0:
		target, err := os.Readlink(p)
		if err != nil {
			return nil, err
		}
		hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, target
		return hdr, nil
	case m&fs.ModeNamedPipe != 0:
		hdr.Typeflag = tar.TypeFifo
	case m&fs.ModeDevice != 0:
		hdr.Typeflag = tar.TypeBlock
		if m&fs.ModeCharDevice != 0 {
			hdr.Typeflag = tar.TypeChar
		}
		hdr.Devmajor, hdr.Devminor = int64(unix.Major(st.Rdev)), int64(unix.Minor(st.Rdev))
	case m.IsRegular():
		hdr.Typeflag, hdr.Size = tar.TypeReg, fi.Size()
		if st.Nlink > 1 { // a hard link: the first name carries the data
			id := [2]uint64{st.Dev, st.Ino}
			if first, ok := links[id]; ok {
				hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, first, 0
				return hdr, nil
			}
			links[id] = name
		}
	default:
		return nil, fmt.Errorf("%s: unsupported file type %s", p, fi.Mode().Type())
	}
	if err := xattrs(p, hdr); err != nil {
		return nil, err
	}
	return hdr, nil
}

// unixMode turns Go's mode bits back into the permission, setuid, setgid
// and sticky bits a tar header holds.
func unixMode(m fs.FileMode) uint32 {
	mode := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		mode |= unix.S_ISUID
	}
	if m&fs.ModeSetgid != 0 {
		mode |= unix.S_ISGID
	}
	if m&fs.ModeSticky != 0 {
		mode |= unix.S_ISVTX
	}
	return mode
}

// xattrs copies the user.* and security.* extended attributes (file
// capabilities live in security.capability) into PAX records. trusted.*
// holds overlayfs's own bookkeeping and is never archived.
func xattrs(p string, hdr *tar.Header) error {
	if hdr.Typeflag != tar.TypeReg && hdr.Typeflag != tar.TypeDir {
		return nil
	}
	names, err := listXattrs(p)
	if err != nil {
		return err
	}
	for _, n := range names {
		if !strings.HasPrefix(n, "user.") && !strings.HasPrefix(n, "security.") {
			continue
		}
		buf := make([]byte, 64*1024)
		sz, err := unix.Lgetxattr(p, n, buf)
		if err != nil {
			continue // removed meanwhile, or not readable: not part of the layer
		}
		if hdr.PAXRecords == nil {
			hdr.PAXRecords = map[string]string{}
		}
		hdr.PAXRecords["SCHILY.xattr."+n] = string(buf[:sz])
	}
	return nil
}

func listXattrs(p string) ([]string, error) {
	buf := make([]byte, 4096)
	n, err := unix.Llistxattr(p, buf)
	if errors.Is(err, unix.ENOTSUP) {
		return nil, nil
	}
	if err != nil {
		return nil, &os.PathError{Op: "listxattr", Path: p, Err: err}
	}
	var names []string
	for _, s := range strings.Split(string(buf[:n]), "\x00") {
		if s != "" {
			names = append(names, s)
		}
	}
	return names, nil
}

// refuseOverlayFeatures fails on an upper-dir entry whose content lives
// partly in a lower layer: a renamed directory (trusted.overlay.redirect)
// or a metadata-only copy-up (trusted.overlay.metacopy).
func refuseOverlayFeatures(p string) error {
	for _, attr := range []string{"trusted.overlay.redirect", "trusted.overlay.metacopy"} {
		if _, err := unix.Lgetxattr(p, attr, nil); err == nil {
			return fmt.Errorf("image: %s has %s: mount overlays with redirect_dir=off and metacopy=off to commit them", p, attr)
		}
	}
	return nil
}

func copyFileTo(w io.Writer, p string, size int64) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	n, err := io.Copy(w, io.LimitReader(f, size))
	if err == nil && n != size {
		err = fmt.Errorf("%s changed size while being archived", p)
	}
	return err
}
