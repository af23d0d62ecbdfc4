package image

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ErrNotFound is returned (wrapped) when no image has the name or ID.
var ErrNotFound = errors.New("no such image")

// Store is an image store rooted at a directory (by default
// /var/lib/lab/images).
type Store struct {
	root string
}

// Open opens the store at root, creating its layout when it is new.
func Open(root string) (*Store, error) {
	s := &Store{root: root}
	for _, dir := range []string{s.blobDir(), s.layerDir()} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create image store: %w", err)
		}
	}
	// The lock file exists from the start, so taking the lock never
	// changes the store's listing.
	lock, err := os.OpenFile(s.path("lock"), os.O_CREATE|os.O_RDONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create image store: %w", err)
	}
	lock.Close()
	if _, err := os.Stat(s.path(ocispec.ImageLayoutFile)); errors.Is(err, fs.ErrNotExist) {
		b, _ := json.Marshal(ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion})
		if err := writeFileAtomic(s.path(ocispec.ImageLayoutFile), b); err != nil {
			return nil, err
		}
	}
	if _, err := os.Stat(s.path(ocispec.ImageIndexFile)); errors.Is(err, fs.ErrNotExist) {
		if err := s.writeIndex(ocispec.Index{}); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Root returns the store's directory.
func (s *Store) Root() string { return s.root }

func (s *Store) path(elem ...string) string {
	return filepath.Join(append([]string{s.root}, elem...)...)
}
func (s *Store) blobDir() string                 { return s.path("blobs", "sha256") }
func (s *Store) layerDir() string                { return s.path("layers") }
func (s *Store) blobPath(d digest.Digest) string { return filepath.Join(s.blobDir(), d.Encoded()) }
func (s *Store) layerPath(diffID digest.Digest) string {
	return filepath.Join(s.layerDir(), diffID.Encoded())
}

// Image is one image of the store.
type Image struct {
	Names    []string      // "busybox:latest"; empty for an untagged image
	ID       digest.Digest // the config digest, as `docker images --digests` shows the image ID
	Manifest ocispec.Descriptor
	Config   ocispec.Image
	Layers   []Layer // bottom-most first, as in rootfs.diff_ids
}

// Layer is one layer of an image.
type Layer struct {
	DiffID digest.Digest // sha256 of the uncompressed layer tar
	Size   int64         // bytes of the layer tar
	Dir    string        // where it is unpacked
}

// Size is the total size of the image's layer tars.
func (img Image) Size() int64 {
	var n int64
	for _, l := range img.Layers {
		n += l.Size
	}
	return n
}

// ShortID is the first 12 hex digits of the image ID, as docker prints it.
func (img Image) ShortID() string { return img.ID.Encoded()[:12] }

// LowerDirs returns the unpacked layer directories top-most first: the
// order overlayfs wants in lowerdir=.
//
// An image may list the same layer twice (two steps that made identical
// tars, often the empty tar of a RUN that changed nothing), and overlayfs
// refuses a directory listed twice. Only the top-most copy is kept, which
// changes nothing: a layer is entirely hidden by an identical one above it.
func (img Image) LowerDirs() []string {
	dirs := make([]string, 0, len(img.Layers))
	for i := len(img.Layers) - 1; i >= 0; i-- {
		if !slices.Contains(dirs, img.Layers[i].Dir) {
			dirs = append(dirs, img.Layers[i].Dir)
		}
	}
	return dirs
}

// refName is the annotation holding a name in index.json.
const refName = ocispec.AnnotationRefName

func (s *Store) readIndex() (ocispec.Index, error) {
	var idx ocispec.Index
	b, err := os.ReadFile(s.path(ocispec.ImageIndexFile))
	if err != nil {
		return idx, fmt.Errorf("read image index: %w", err)
	}
	if err := json.Unmarshal(b, &idx); err != nil {
		return idx, fmt.Errorf("parse %s: %w", s.path(ocispec.ImageIndexFile), err)
	}
	return idx, nil
}

func (s *Store) writeIndex(idx ocispec.Index) error {
	idx.Versioned = specs.Versioned{SchemaVersion: 2}
	idx.MediaType = ocispec.MediaTypeImageIndex
	if idx.Manifests == nil {
		idx.Manifests = []ocispec.Descriptor{}
	}
	b, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(s.path(ocispec.ImageIndexFile), b)
}

// List returns every image, one entry per manifest, sorted by name.
func (s *Store) List() ([]Image, error) {
	idx, err := s.readIndex()
	if err != nil {
		return nil, err
	}
	var out []Image
	byManifest := map[digest.Digest]int{}
	for _, desc := range idx.Manifests {
		if i, ok := byManifest[desc.Digest]; ok {
			if n := desc.Annotations[refName]; n != "" {
				out[i].Names = append(out[i].Names, n)
			}
			continue
		}
		img, err := s.load(desc)
		if err != nil {
			return nil, err
		}
		byManifest[desc.Digest] = len(out)
		out = append(out, img)
	}
	for i := range out {
		slices.Sort(out[i].Names)
	}
	slices.SortFunc(out, func(a, b Image) int {
		return strings.Compare(strings.Join(a.Names, ","), strings.Join(b.Names, ","))
	})
	return out, nil
}

// load reads the manifest and config a descriptor points at.
func (s *Store) load(desc ocispec.Descriptor) (Image, error) {
	img := Image{Manifest: desc}
	if n := desc.Annotations[refName]; n != "" {
		img.Names = []string{n}
	}
	var m ocispec.Manifest
	if err := s.readJSON(desc.Digest, &m); err != nil {
		return img, err
	}
	img.ID = m.Config.Digest
	if err := s.readJSON(m.Config.Digest, &img.Config); err != nil {
		return img, err
	}
	for _, l := range m.Layers {
		img.Layers = append(img.Layers, Layer{DiffID: l.Digest, Size: l.Size, Dir: s.layerPath(l.Digest)})
	}
	return img, nil
}

func (s *Store) readJSON(d digest.Digest, v any) error {
	if err := d.Validate(); err != nil {
		return fmt.Errorf("image store: bad digest %q: %w", d, err)
	}
	b, err := os.ReadFile(s.blobPath(d))
	if err != nil {
		return fmt.Errorf("read blob %s: %w", d, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("parse blob %s: %w", d, err)
	}
	return nil
}

// Get returns the image with this name ("busybox", "busybox:latest") or
// ID (a prefix of at least 4 hex digits, with or without "sha256:").
func (s *Store) Get(ref string) (Image, error) {
	all, err := s.List()
	if err != nil {
		return Image{}, err
	}
	return find(all, ref)
}

func find(all []Image, ref string) (Image, error) {
	if n, err := NormalizeName(ref); err == nil {
		for _, img := range all {
			if slices.Contains(img.Names, n) {
				return img, nil
			}
		}
	}
	hex := strings.TrimPrefix(ref, "sha256:")
	if len(hex) >= 4 && strings.Trim(hex, "0123456789abcdef") == "" {
		var found []Image
		for _, img := range all {
			if strings.HasPrefix(img.ID.Encoded(), hex) {
				found = append(found, img)
			}
		}
		if len(found) == 1 {
			return found[0], nil
		}
		if len(found) > 1 {
			return Image{}, fmt.Errorf("image: ID prefix %s matches %d images: give more digits", hex, len(found))
		}
	}
	return Image{}, fmt.Errorf("image %s: %w (see lab image ls)", ref, ErrNotFound)
}

// HistoryEntry is one line of `lab image history`.
type HistoryEntry struct {
	Created    time.Time
	CreatedBy  string
	Comment    string
	EmptyLayer bool          // a config-only step (ENV, CMD): no layer
	DiffID     digest.Digest // the layer it made, when not EmptyLayer
	Size       int64
}

// History returns the image's history top-most (newest) first, as docker
// history prints it, each step paired with the layer it made.
func (s *Store) History(ref string) ([]HistoryEntry, error) {
	img, err := s.Get(ref)
	if err != nil {
		return nil, err
	}
	return history(img), nil
}

func history(img Image) []HistoryEntry {
	var out []HistoryEntry
	layer := 0
	for _, h := range img.Config.History {
		e := HistoryEntry{CreatedBy: h.CreatedBy, Comment: h.Comment, EmptyLayer: h.EmptyLayer}
		if h.Created != nil {
			e.Created = *h.Created
		}
		if !h.EmptyLayer && layer < len(img.Layers) {
			e.DiffID, e.Size = img.Layers[layer].DiffID, img.Layers[layer].Size
			layer++
		}
		out = append(out, e)
	}
	for ; layer < len(img.Layers); layer++ { // layers the history does not describe
		out = append(out, HistoryEntry{DiffID: img.Layers[layer].DiffID, Size: img.Layers[layer].Size})
	}
	slices.Reverse(out)
	return out
}

// Tag gives the image ref the additional name newName, moving the name
// away from any image that had it.
func (s *Store) Tag(ref, newName string) error {
	n, err := NormalizeName(newName)
	if err != nil {
		return err
	}
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	img, err := s.Get(ref)
	if err != nil {
		return err
	}
	idx, err := s.readIndex()
	if err != nil {
		return err
	}
	idx.Manifests = setName(idx.Manifests, img.Manifest, n)
	return s.writeIndex(idx)
}

// setName points name at the manifest desc, removing it elsewhere and
// dropping an untagged entry of the same manifest.
func setName(list []ocispec.Descriptor, desc ocispec.Descriptor, name string) []ocispec.Descriptor {
	list = slices.DeleteFunc(list, func(d ocispec.Descriptor) bool {
		return d.Annotations[refName] == name || (d.Digest == desc.Digest && d.Annotations[refName] == "")
	})
	desc.Annotations = map[string]string{refName: name}
	return append(list, desc)
}

// Remove deletes a name, or with an image ID every name of that image.
// When no name is left the image goes, and so do the blobs and unpacked
// layers no other image uses (a layer still mounted by an overlay is kept).
// It returns the names removed and the digests deleted.
func (s *Store) Remove(ref string) (untagged []string, deleted []digest.Digest, err error) {
	unlock, err := s.lock()
	if err != nil {
		return nil, nil, err
	}
	defer unlock()
	img, err := s.Get(ref)
	if err != nil {
		return nil, nil, err
	}
	idx, err := s.readIndex()
	if err != nil {
		return nil, nil, err
	}
	n, nameErr := NormalizeName(ref)
	byName := nameErr == nil && slices.Contains(img.Names, n)
	idx.Manifests = slices.DeleteFunc(idx.Manifests, func(d ocispec.Descriptor) bool {
		if d.Digest != img.Manifest.Digest {
			return false
		}
		if byName && d.Annotations[refName] != n {
			return false
		}
		if name := d.Annotations[refName]; name != "" {
			untagged = append(untagged, name)
		}
		return true
	})
	if err := s.writeIndex(idx); err != nil {
		return nil, nil, err
	}
	deleted, err = s.gc()
	return untagged, deleted, err
}

// gc deletes blobs and layer directories no manifest in the index reaches.
func (s *Store) gc() ([]digest.Digest, error) {
	idx, err := s.readIndex()
	if err != nil {
		return nil, err
	}
	keep := map[string]bool{}
	for _, desc := range idx.Manifests {
		keep[desc.Digest.Encoded()] = true
		var m ocispec.Manifest
		if err := s.readJSON(desc.Digest, &m); err != nil {
			return nil, err
		}
		keep[m.Config.Digest.Encoded()] = true
		for _, l := range m.Layers {
			keep[l.Digest.Encoded()] = true
		}
	}
	mounted := mountedLowerDirs()
	var deleted []digest.Digest
	blobs, _ := os.ReadDir(s.blobDir())
	for _, b := range blobs {
		if keep[b.Name()] {
			continue
		}
		if err := os.Remove(filepath.Join(s.blobDir(), b.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return deleted, fmt.Errorf("remove blob: %w", err)
		}
		deleted = append(deleted, digest.NewDigestFromEncoded(digest.SHA256, b.Name()))
	}
	layers, _ := os.ReadDir(s.layerDir())
	for _, l := range layers {
		dir := filepath.Join(s.layerDir(), l.Name())
		if keep[l.Name()] || mounted[dir] {
			continue
		}
		if err := os.RemoveAll(dir); err != nil {
			return deleted, fmt.Errorf("remove layer: %w", err)
		}
	}
	return deleted, nil
}

// writeFileAtomic writes data to a temporary file beside path and renames
// it over path: readers see the old file or the new one, never half.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// countingWriter counts bytes and forwards them to an optional progress
// writer (a progress bar in the CLI).
type countingWriter struct {
	n        int64
	progress io.Writer
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	if c.progress != nil {
		_, _ = c.progress.Write(p)
	}
	return len(p), nil
}
