package image

import (
	"archive/tar"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Format is an image archive format.
type Format string

const (
	DockerArchive Format = "docker" // `docker save`: manifest.json, configs, layer tars
	OCIArchive    Format = "oci"    // a tar of an OCI image layout: oci-layout, index.json, blobs/
)

// Load imports every image of a `docker save` or OCI layout tarball at
// path, like `docker load -i FILE`. Each layer is checked against the
// DiffID its config lists (and a compressed blob against its digest)
// before anything enters the store; a bad archive changes nothing.
func (s *Store) Load(path string, opts Options) ([]Imported, error) {
	format, err := sniff(path)
	if err != nil {
		return nil, err
	}
	t, err := s.begin(opts.Progress)
	if err != nil {
		return nil, err
	}
	defer t.abort()
	var out []Imported
	switch format {
	case DockerArchive:
		out, err = t.loadDocker(path)
	case OCIArchive:
		out, err = t.loadOCI(path)
	}
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("load %s: image: the archive holds no image", path)
	}
	if err := t.commit(); err != nil {
		return nil, err
	}
	return out, nil
}

// sniff reads the whole archive once: it must be a complete tar (the
// end-of-archive marker is there) holding manifest.json (docker save) or
// oci-layout and index.json (an OCI layout).
func sniff(path string) (Format, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("load: %w", err)
	}
	defer f.Close()
	cr := &countingReader{r: f}
	tr := tar.NewReader(cr)
	seen := map[string]bool{}
	var dataEnd, dataSize int64
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			if cr.n-dataEnd < (512-dataSize%512)%512+1024 {
				return "", fmt.Errorf("load %s: image: truncated tarball: the end-of-archive marker is missing", path)
			}
			break
		}
		if err != nil {
			return "", fmt.Errorf("load %s: image: not a valid tar (truncated or corrupt): %w", path, err)
		}
		n, err := io.Copy(io.Discard, tr)
		if err != nil || n != hdr.Size {
			return "", fmt.Errorf("load %s: image: truncated tarball: %s is cut short", path, hdr.Name)
		}
		seen[filepath.Clean(hdr.Name)] = true
		dataEnd, dataSize = cr.n, hdr.Size
		if hdr.Typeflag != tar.TypeReg {
			dataSize = 0
		}
	}
	switch {
	case seen["manifest.json"]:
		return DockerArchive, nil
	case seen[ocispec.ImageLayoutFile] && seen[ocispec.ImageIndexFile]:
		return OCIArchive, nil
	}
	return "", fmt.Errorf("load %s: image: neither a docker save tarball (no manifest.json) nor an OCI layout (no oci-layout and index.json)", path)
}

// loadDocker reads a `docker save` tarball with go-containerregistry.
func (t *txn) loadDocker(path string) ([]Imported, error) {
	opener := func() (io.ReadCloser, error) { return os.Open(path) }
	m, err := tarball.LoadManifest(opener)
	if err != nil {
		return nil, fmt.Errorf("read manifest.json: %w", err)
	}
	var out []Imported
	for i, d := range m {
		var tag *name.Tag
		if len(d.RepoTags) > 0 {
			t, err := name.NewTag(d.RepoTags[0])
			if err != nil {
				return nil, fmt.Errorf("image %d: bad RepoTags %q: %w", i+1, d.RepoTags[0], err)
			}
			tag = &t
		} else if len(m) > 1 {
			return nil, fmt.Errorf("image %d of %d has no RepoTags: go-containerregistry cannot address it", i+1, len(m))
		}
		img, err := tarball.Image(opener, tag)
		if err != nil {
			return nil, fmt.Errorf("image %d: %w", i+1, err)
		}
		names, err := normalizeAll(d.RepoTags)
		if err != nil {
			return nil, err
		}
		imp, err := t.addImage(img, names, false)
		if err != nil {
			return nil, err
		}
		out = append(out, imp)
	}
	return out, nil
}

// loadOCI unpacks an OCI layout tarball into the staging directory (only
// files and directories, with local names) and reads it with
// go-containerregistry's layout package.
func (t *txn) loadOCI(path string) ([]Imported, error) {
	dir := t.tempName("oci")
	if err := extractPlain(path, dir); err != nil {
		return nil, err
	}
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("read OCI layout: %w", err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("read index.json: %w", err)
	}
	var out []Imported
	for _, desc := range im.Manifests {
		var names []string
		for _, key := range []string{"io.containerd.image.name", ocispec.AnnotationRefName} {
			if n, err := NormalizeName(desc.Annotations[key]); err == nil && desc.Annotations[key] != "" {
				names = append(names, n)
				break
			}
		}
		img, err := pickImage(idx, desc)
		if err != nil {
			return nil, err
		}
		imp, err := t.addImage(img, names, true)
		if err != nil {
			return nil, err
		}
		out = append(out, imp)
	}
	return out, nil
}

// pickImage returns the image a descriptor of index.json points at; for a
// multi-platform index, the linux image of this machine's architecture.
func pickImage(idx v1.ImageIndex, desc v1.Descriptor) (v1.Image, error) {
	if desc.MediaType.IsImage() {
		return idx.Image(desc.Digest)
	}
	if !desc.MediaType.IsIndex() {
		return nil, fmt.Errorf("index.json: unsupported media type %s", desc.MediaType)
	}
	child, err := idx.ImageIndex(desc.Digest)
	if err != nil {
		return nil, err
	}
	cm, err := child.IndexManifest()
	if err != nil {
		return nil, err
	}
	for _, d := range cm.Manifests {
		if d.MediaType.IsImage() && (d.Platform == nil || (d.Platform.OS == "linux" && d.Platform.Architecture == runtime.GOARCH)) {
			return child.Image(d.Digest)
		}
	}
	return nil, fmt.Errorf("index %s has no linux/%s image", desc.Digest, runtime.GOARCH)
}

// addImage stages every layer of img, checking digests, then its config
// and a manifest of uncompressed layers.
func (t *txn) addImage(img v1.Image, names []string, checkBlobs bool) (Imported, error) {
	raw, err := img.RawConfigFile()
	if err != nil {
		return Imported{}, fmt.Errorf("read config: %w", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return Imported{}, fmt.Errorf("parse config: %w", err)
	}
	layers, err := img.Layers()
	if err != nil {
		return Imported{}, fmt.Errorf("read layers: %w", err)
	}
	if len(layers) != len(cfg.RootFS.DiffIDs) {
		return Imported{}, fmt.Errorf("config lists %d layers, the archive has %d", len(cfg.RootFS.DiffIDs), len(layers))
	}
	var descs []ocispec.Descriptor
	var diffIDs []digest.Digest
	for i, l := range layers {
		want := digest.Digest(cfg.RootFS.DiffIDs[i].String())
		if checkBlobs {
			if err := checkBlob(l); err != nil {
				return Imported{}, fmt.Errorf("layer %d: %w", i+1, err)
			}
		}
		rc, err := l.Uncompressed()
		if err != nil {
			return Imported{}, fmt.Errorf("layer %d: %w", i+1, err)
		}
		d, size, err := t.putLayer(rc, want)
		rc.Close()
		if err != nil {
			return Imported{}, fmt.Errorf("layer %d: %w", i+1, err)
		}
		descs = append(descs, layerDesc(d, size))
		diffIDs = append(diffIDs, d)
	}
	if _, err := t.putImage(raw, descs, names); err != nil {
		return Imported{}, err
	}
	return Imported{Names: names, ID: digest.FromBytes(raw), Layers: diffIDs}, nil
}

// checkBlob hashes a layer blob as stored in an OCI layout and compares it
// with the digest the manifest gives it.
func checkBlob(l v1.Layer) error {
	want, err := l.Digest()
	if err != nil {
		return err
	}
	rc, err := l.Compressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	h := sha256.New()
	if _, err := io.Copy(h, rc); err != nil {
		return fmt.Errorf("read blob %s: %w", want, err)
	}
	if got := fmt.Sprintf("sha256:%x", h.Sum(nil)); got != want.String() {
		return fmt.Errorf("image: blob digest mismatch: its content hashes to %s but the manifest lists %s (the archive is corrupt or was changed)", got, want)
	}
	return nil
}

func normalizeAll(refs []string) ([]string, error) {
	var out []string
	for _, r := range refs {
		n, err := NormalizeName(r)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// extractPlain extracts a tar holding only regular files and directories
// with local names (an OCI layout) into dir.
func extractPlain(path, dir string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := os.Mkdir(dir, 0o700); err != nil {
		return err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read tar: %w", err)
		}
		n, err := localName(hdr.Name)
		if err != nil {
			return err
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := root.MkdirAll(n, 0o700); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := root.MkdirAll(filepath.Dir(n), 0o700); err != nil {
				return err
			}
			out, err := root.OpenFile(n, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
			if err != nil {
				return err
			}
			_, err = io.Copy(out, tr)
			out.Close()
			if err != nil {
				return err
			}
		default:
			return fmt.Errorf("image: OCI layout entry %q: only files and directories are expected", hdr.Name)
		}
	}
}
