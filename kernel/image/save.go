package image

import (
	"archive/tar"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Save writes the images refs to w as one archive, like
// `docker save -o FILE NAME...`. DockerArchive is the classic
// manifest.json format; OCIArchive is a tar of an OCI image layout. Both
// keep each config byte for byte and each layer tar as stored, so loading
// the archive again gives the same image ID and the same layer digests.
func (s *Store) Save(refs []string, w io.Writer, format Format, opts Options) error {
	unlock, err := s.lock() // no rm or load changes the blobs while we read them
	if err != nil {
		return err
	}
	defer unlock()
	p, err := layout.FromPath(s.root)
	if err != nil {
		return fmt.Errorf("open store layout: %w", err)
	}
	type named struct {
		name string
		img  v1.Image
	}
	var images []named
	for _, ref := range refs {
		img, err := s.Get(ref)
		if err != nil {
			return err
		}
		h, err := v1.NewHash(img.Manifest.Digest.String())
		if err != nil {
			return err
		}
		vi, err := p.Image(h)
		if err != nil {
			return fmt.Errorf("read image %s: %w", ref, err)
		}
		n := ref
		if nn, err := NormalizeName(ref); err == nil && slices.Contains(img.Names, nn) {
			n = nn
		} else if len(img.Names) > 0 {
			n = img.Names[0]
		} else {
			n = ""
		}
		images = append(images, named{n, vi})
	}
	out := io.Writer(w)
	if opts.Progress != nil {
		out = io.MultiWriter(w, opts.Progress)
	}
	switch format {
	case DockerArchive, "":
		refToImage := map[name.Reference]v1.Image{}
		for _, im := range images {
			if im.name == "" {
				return fmt.Errorf("image: an untagged image cannot be saved in docker format: tag it first (lab image tag ID NAME)")
			}
			tag, err := name.NewTag(im.name)
			if err != nil {
				return err
			}
			refToImage[tag] = im.img
		}
		if err := tarball.MultiRefWrite(refToImage, out); err != nil {
			return fmt.Errorf("write docker archive: %w", err)
		}
		return nil
	case OCIArchive:
		dir, err := os.MkdirTemp(s.root, "tmp-save-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		lp, err := layout.Write(dir, empty.Index)
		if err != nil {
			return fmt.Errorf("write OCI layout: %w", err)
		}
		for _, im := range images {
			var opts []layout.Option
			if im.name != "" {
				opts = append(opts, layout.WithAnnotations(map[string]string{
					ocispec.AnnotationRefName:  im.name,
					"io.containerd.image.name": im.name,
				}))
			}
			if err := lp.AppendImage(im.img, opts...); err != nil {
				return fmt.Errorf("write OCI layout: %w", err)
			}
		}
		return tarDir(dir, out)
	}
	return fmt.Errorf("image: unknown archive format %q: use docker or oci", format)
}

// tarDir writes the tree at dir as a tar with stable order and times.
func tarDir(dir string, w io.Writer) error {
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		hdr := &tar.Header{Name: filepath.ToSlash(rel), ModTime: time.Unix(0, 0), Mode: 0o644, Typeflag: tar.TypeReg}
		if d.IsDir() {
			hdr.Typeflag, hdr.Mode, hdr.Name = tar.TypeDir, 0o755, hdr.Name+"/"
			return tw.WriteHeader(hdr)
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		hdr.Size = fi.Size()
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
	if err != nil {
		return fmt.Errorf("write OCI archive: %w", err)
	}
	return tw.Close()
}
