package image

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// txn stages blobs, unpacked layers and names in a temporary directory
// inside the store. Nothing is visible until commit renames it all into
// place; abort (always deferred) removes whatever is left, so an error at
// any point leaves the store as it was.
type txn struct {
	s        *Store
	dir      string
	blobs    map[digest.Digest]string // staged file of each new blob
	layers   map[digest.Digest]string // staged directory of each new layer
	names    map[string]ocispec.Descriptor
	untagged []ocispec.Descriptor
	progress io.Writer
	unlock   func()
	seq      int
}

func (s *Store) begin(progress io.Writer) (*txn, error) {
	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	// Under the lock no other change is running: a staging dir still here
	// is what a killed lab left behind.
	stale, _ := filepath.Glob(s.path("tmp-*"))
	for _, d := range stale {
		_ = os.RemoveAll(d)
	}
	dir, err := os.MkdirTemp(s.root, "tmp-")
	if err != nil {
		unlock()
		return nil, fmt.Errorf("create staging dir: %w", err)
	}
	return &txn{
		s: s, dir: dir, progress: progress, unlock: unlock,
		blobs: map[digest.Digest]string{}, layers: map[digest.Digest]string{},
		names: map[string]ocispec.Descriptor{},
	}, nil
}

func (t *txn) abort() {
	_ = os.RemoveAll(t.dir)
	t.unlock()
}

func (t *txn) tempName(kind string) string {
	t.seq++
	return filepath.Join(t.dir, fmt.Sprintf("%s-%d", kind, t.seq))
}

func (t *txn) haveBlob(d digest.Digest) bool {
	if _, ok := t.blobs[d]; ok {
		return true
	}
	_, err := os.Stat(t.s.blobPath(d))
	return err == nil
}

// putBlob stages a small blob (a config or a manifest).
func (t *txn) putBlob(data []byte) (digest.Digest, error) {
	d := digest.FromBytes(data)
	if t.haveBlob(d) {
		return d, nil
	}
	p := t.tempName("blob")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		return "", fmt.Errorf("stage blob: %w", err)
	}
	t.blobs[d] = p
	return d, nil
}

// putLayer copies an uncompressed layer tar into the staging directory
// while hashing it, then unpacks it unless the store (or this transaction)
// already has that layer: layers are unpacked once and shared.
// want, when not empty, is the DiffID the image config promises: a
// different digest means a corrupt or tampered layer and aborts the load.
func (t *txn) putLayer(r io.Reader, want digest.Digest) (digest.Digest, int64, error) {
	p := t.tempName("layer")
	f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return "", 0, fmt.Errorf("stage layer: %w", err)
	}
	h := sha256.New()
	count := &countingWriter{progress: t.progress}
	_, err = io.Copy(io.MultiWriter(f, h, count), r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", 0, fmt.Errorf("read layer: %w", err)
	}
	got := digest.NewDigest(digest.SHA256, h)
	if want != "" && got != want {
		return "", 0, fmt.Errorf("image: layer digest mismatch: its content hashes to %s but the image config lists %s (the archive is corrupt or was changed)", got, want)
	}
	if t.haveBlob(got) {
		_ = os.Remove(p)
	} else {
		t.blobs[got] = p
	}
	if _, staged := t.layers[got]; staged {
		return got, count.n, nil
	}
	if _, err := os.Stat(t.s.layerPath(got)); err == nil {
		return got, count.n, nil
	}
	dir := t.tempName("unpack")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", 0, fmt.Errorf("stage layer: %w", err)
	}
	src, err := os.Open(t.blobOrStaged(got))
	if err != nil {
		return "", 0, err
	}
	defer src.Close()
	if err := Unpack(src, dir); err != nil {
		return "", 0, fmt.Errorf("unpack layer %s: %w", got, err)
	}
	t.layers[got] = dir
	return got, count.n, nil
}

func (t *txn) blobOrStaged(d digest.Digest) string {
	if p, ok := t.blobs[d]; ok {
		return p
	}
	return t.s.blobPath(d)
}

// putImage stages the manifest of an image made of config (raw JSON,
// stored byte for byte so its digest, the image ID, never changes) and
// layers already staged with putLayer, and names it.
func (t *txn) putImage(config []byte, layers []ocispec.Descriptor, names []string) (ocispec.Descriptor, error) {
	var cfg ocispec.Image
	if err := json.Unmarshal(config, &cfg); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("image: parse config: %w", err)
	}
	if len(cfg.RootFS.DiffIDs) != len(layers) {
		return ocispec.Descriptor{}, fmt.Errorf("image: config lists %d layers, the archive has %d", len(cfg.RootFS.DiffIDs), len(layers))
	}
	for i, l := range layers {
		if cfg.RootFS.DiffIDs[i] != l.Digest {
			return ocispec.Descriptor{}, fmt.Errorf("image: layer %d is %s but the config lists %s", i+1, l.Digest, cfg.RootFS.DiffIDs[i])
		}
	}
	cfgDigest, err := t.putBlob(config)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	m := ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: cfgDigest, Size: int64(len(config))},
		Layers:    layers,
	}
	mb, err := json.Marshal(m)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	md, err := t.putBlob(mb)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	desc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: md, Size: int64(len(mb))}
	for _, n := range names {
		t.names[n] = desc
	}
	if len(names) == 0 {
		t.untagged = append(t.untagged, desc)
	}
	return desc, nil
}

// commit renames the staged blobs and layers into the store, then writes
// the new index.json (the step that makes the images visible), then
// removes the staging directory.
func (t *txn) commit() error {
	defer t.abort()
	for d, p := range t.blobs {
		if err := os.Rename(p, t.s.blobPath(d)); err != nil {
			return fmt.Errorf("store blob %s: %w", d, err)
		}
	}
	for d, p := range t.layers {
		err := os.Rename(p, t.s.layerPath(d))
		if err != nil && !errors.Is(err, fs.ErrExist) && !errors.Is(err, errNotEmpty) {
			return fmt.Errorf("store layer %s: %w", d, err)
		}
	}
	idx, err := t.s.readIndex()
	if err != nil {
		return err
	}
	for n, desc := range t.names {
		idx.Manifests = setName(idx.Manifests, desc, n)
	}
	for _, desc := range t.untagged {
		known := false
		for _, d := range idx.Manifests {
			known = known || d.Digest == desc.Digest
		}
		if !known {
			idx.Manifests = append(idx.Manifests, desc)
		}
	}
	return t.s.writeIndex(idx)
}
