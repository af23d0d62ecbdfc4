package container

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// containersDir holds one directory per container, and the lock file.
func containersDir(root string) string { return filepath.Join(root, "containers") }

// lock takes the state lock, <root>/containers/.lock, with flock(2): a
// second `lab run` waits here while the first allocates its name, so two
// containers can never get the same name. The kernel drops the lock when
// the process dies, so a crash never leaves it held.
func lock(root string) (unlock func(), err error) {
	dir := containersDir(root)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, ".lock")
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	if err := unix.Flock(fd, unix.LOCK_EX); err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "flock", Path: path, Err: err}
	}
	return func() { unix.Close(fd) }, nil
}

// newID returns 64 random hex digits, as docker's container IDs.
func newID() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on Linux
	return hex.EncodeToString(b[:])
}

var validName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

var (
	adjectives = []string{"brave", "calm", "eager", "fond", "gentle", "happy", "jolly", "keen", "lucid", "merry", "nifty", "proud", "quiet", "sharp", "tender", "witty"}
	scientists = []string{"babbage", "curie", "dijkstra", "euler", "feynman", "hopper", "knuth", "lovelace", "noether", "pike", "ritchie", "shannon", "thompson", "torvalds", "turing", "wozniak"}
)

// randomName makes a docker-style name such as "jolly_hopper".
func randomName(id string) string {
	return adjectives[int(id[0])%len(adjectives)] + "_" + scientists[int(id[1])%len(scientists)] + "_" + id[2:6]
}

// writeJSON replaces path atomically: a reader sees the old or the new
// file, never half of one (write to a temporary name, then rename(2)).
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}

// record is config.json: the Spec and what Create decided.
type record struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	ImageID string `json:"image_id,omitempty"`
	Spec    Spec   `json:"spec"`
}

func (c *Container) saveConfig() error {
	return writeJSON(filepath.Join(c.Dir(), "config.json"),
		record{ID: c.ID, Name: c.Name, ImageID: c.ImageID, Spec: c.Spec})
}

// saveState writes state.json.
func (c *Container) saveState() error {
	return writeJSON(filepath.Join(c.Dir(), "state.json"), c.State)
}

// Refresh reads state.json again.
func (c *Container) Refresh() error {
	var st State
	if err := readJSON(filepath.Join(c.Dir(), "state.json"), &st); err != nil {
		return err
	}
	c.State = st
	return nil
}

// loadDir reads the container in dir.
func loadDir(root, id string) (*Container, error) {
	var r record
	dir := filepath.Join(containersDir(root), id)
	if err := readJSON(filepath.Join(dir, "config.json"), &r); err != nil {
		return nil, err
	}
	c := &Container{ID: r.ID, Name: r.Name, ImageID: r.ImageID, Root: root, Spec: r.Spec}
	if err := c.Refresh(); err != nil {
		return nil, err
	}
	return c, nil
}

// ids lists the IDs of the container directories.
func ids(root string) ([]string, error) {
	entries, err := os.ReadDir(containersDir(root))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && idOK(e.Name()) {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// List returns every container, newest first. A directory whose files
// cannot be read (a crash between mkdir and the first write) is skipped;
// Prune removes it.
func List(root string) ([]*Container, error) {
	all, err := ids(root)
	if err != nil {
		return nil, err
	}
	var out []*Container
	for _, id := range all {
		if c, err := loadDir(root, id); err == nil {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b *Container) int { return b.State.Created.Compare(a.State.Created) })
	return out, nil
}

// Load finds a container by name, full ID or unique ID prefix, as docker
// does.
func Load(root, ref string) (*Container, error) {
	all, err := List(root)
	if err != nil {
		return nil, err
	}
	var byPrefix []*Container
	for _, c := range all {
		if c.Name == ref || c.ID == ref {
			return c, nil
		}
		if len(ref) >= 1 && strings.HasPrefix(c.ID, ref) {
			byPrefix = append(byPrefix, c)
		}
	}
	switch len(byPrefix) {
	case 1:
		return byPrefix[0], nil
	case 0:
		return nil, fmt.Errorf("container %q: %w", ref, ErrNotFound)
	default:
		return nil, fmt.Errorf("container %q: the prefix matches %d containers, give more of the ID", ref, len(byPrefix))
	}
}

// nameTaken reports whether a container already has name. Call it with the
// state lock held.
func nameTaken(root, name string) (bool, error) {
	all, err := List(root)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(all, func(c *Container) bool { return c.Name == name }), nil
}
