package image

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Change adds layers and images to the store as one unit, the way a build
// or a `docker commit` needs it: nothing is visible until Commit, and
// Abort (always deferred) leaves the store exactly as it was. The store is
// locked from Begin to Commit or Abort, so keep a Change short: prepare
// the layer tars first.
type Change struct {
	t    *txn
	done bool
}

// Begin starts a change.
func (s *Store) Begin(opts Options) (*Change, error) {
	t, err := s.begin(opts.Progress)
	if err != nil {
		return nil, err
	}
	return &Change{t: t}, nil
}

// AddLayer stages an uncompressed layer tar and returns its DiffID (the
// sha256 of the tar) and size. A layer the store already has is shared,
// not unpacked again.
func (c *Change) AddLayer(r io.Reader) (digest.Digest, int64, error) {
	return c.t.putLayer(r, "")
}

// AddImage stages an image made of cfg, whose rootfs.diff_ids must all be
// layers of the store or staged by AddLayer, and names it (name may be
// empty: an untagged image). It returns the image ID.
func (c *Change) AddImage(cfg ocispec.Image, name string) (digest.Digest, error) {
	var names []string
	if name != "" {
		n, err := NormalizeName(name)
		if err != nil {
			return "", err
		}
		names = []string{n}
	}
	descs := make([]ocispec.Descriptor, 0, len(cfg.RootFS.DiffIDs))
	for _, d := range cfg.RootFS.DiffIDs {
		size, err := c.layerSize(d)
		if err != nil {
			return "", err
		}
		descs = append(descs, layerDesc(d, size))
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return "", err
	}
	if _, err := c.t.putImage(raw, descs, names); err != nil {
		return "", err
	}
	return digest.FromBytes(raw), nil
}

// layerSize is the size of a staged or stored layer tar; an unknown layer
// is an error.
func (c *Change) layerSize(d digest.Digest) (int64, error) {
	fi, err := os.Stat(c.t.blobOrStaged(d))
	if err != nil {
		return 0, fmt.Errorf("image: layer %s is not in the store: %w", d, err)
	}
	return fi.Size(), nil
}

// Commit makes everything staged visible and releases the store.
func (c *Change) Commit() error {
	if c.done {
		return errors.New("image: change already finished")
	}
	c.done = true
	return c.t.commit()
}

// Abort discards everything staged and releases the store. It is safe to
// call after Commit (it does nothing then).
func (c *Change) Abort() {
	if !c.done {
		c.done = true
		c.t.abort()
	}
}

// Layer returns the unpacked layer with this DiffID, and whether the store
// has it (its tar and its unpacked directory both).
func (s *Store) Layer(diffID digest.Digest) (Layer, bool) {
	if diffID.Validate() != nil {
		return Layer{}, false
	}
	fi, err := os.Stat(s.blobPath(diffID))
	if err != nil {
		return Layer{}, false
	}
	if _, err := os.Stat(s.layerPath(diffID)); err != nil {
		return Layer{}, false
	}
	return Layer{DiffID: diffID, Size: fi.Size(), Dir: s.layerPath(diffID)}, true
}
