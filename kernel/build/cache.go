package build

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/lab-edu/lab/kernel/image"
)

// The build cache remembers, for each step, the layer it made. A step's key
// is the sha256 of the key before it (so of every earlier step, down to the
// base image's ID), the instruction, and its inputs: for COPY and ADD the
// content hash of the source files, for RUN the command with its
// environment, working directory and user. Change any of them and this
// step, and every step after it, misses; leave them all alone and the
// rebuild reuses every layer, as docker's classic builder does.
//
// Entries live in the image store (ROOT/buildcache/HEX.json). A layer the
// store has since deleted (`lab image rm` collects unused layers) simply
// makes the entry miss.

// stepKey chains a step onto the key before it.
func stepKey(parent digest.Digest, in Instruction, inputs string) digest.Digest {
	var b strings.Builder
	b.WriteString(parent.String())
	b.WriteString("\n")
	b.WriteString(in.Cmd)
	for _, k := range sortedKeys(in.Flags) {
		fmt.Fprintf(&b, " --%s=%s", k, in.Flags[k])
	}
	for _, a := range in.Args {
		b.WriteString("\x00" + a)
	}
	b.WriteString("\n" + inputs)
	return digest.FromString(b.String())
}

// configDigest hashes the run configuration (ENV, WORKDIR, USER...) the
// next step starts from.
func configDigest(s *state) string {
	raw, _ := json.Marshal(s.cfg.Config)
	return digest.FromBytes(raw).String()
}

func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }

// cacheEntry is one remembered step.
type cacheEntry struct {
	Key     digest.Digest `json:"key"`
	DiffID  digest.Digest `json:"diff_id,omitempty"` // empty: the step made no layer
	Created time.Time     `json:"created"`           // reused so a rebuild gives the same image ID
}

type cache struct{ dir string }

func openCache(s *image.Store) *cache { return &cache{dir: filepath.Join(s.Root(), "buildcache")} }

func (c *cache) path(key digest.Digest) string { return filepath.Join(c.dir, key.Encoded()+".json") }

func (c *cache) get(key digest.Digest) (cacheEntry, bool) {
	var e cacheEntry
	raw, err := os.ReadFile(c.path(key))
	if err != nil || json.Unmarshal(raw, &e) != nil || e.Key != key {
		return cacheEntry{}, false
	}
	return e, true
}

// put writes an entry atomically (a temporary file renamed into place).
func (c *cache) put(e cacheEntry) error {
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return err
	}
	raw, err := json.Marshal(e)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(c.dir, ".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(raw); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), c.path(e.Key))
}

// prune deletes the entries whose layer is gone (has reports whether the
// store still has a layer).
func (c *cache) prune(has func(digest.Digest) bool) error {
	entries, err := os.ReadDir(c.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read build cache: %w", err)
	}
	for _, e := range entries {
		key, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok {
			continue
		}
		entry, found := c.get(digest.NewDigestFromEncoded(digest.SHA256, key))
		if !found || (entry.DiffID != "" && !has(entry.DiffID)) {
			if err := os.Remove(filepath.Join(c.dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("prune build cache: %w", err)
			}
		}
	}
	return nil
}
