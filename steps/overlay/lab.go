// Package overlaylab is the overlay lab: stack directories with overlayfs
// the way Docker stacks image layers, watch copy-up, whiteouts and opaque
// directories appear in the upper dir, share the same layers between two
// "containers", and build an image layer by hand into lab's image store.
package overlaylab

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/kernel/image"
	"github.com/lab-edu/lab/kernel/mount"
	"github.com/lab-edu/lab/steps"
)

// ID is the lab's ID and the name of its workspace directory.
const ID = "overlay"

// Steps are the lab's steps, in order.
var Steps = []steps.Step{Mount, CopyUp, Whiteout, Opaque, Share, Image, Volumes}

// The two image layers the lab starts with. layer1 is the bottom one (a
// base image), layer2 sits on it; both hold a file "version", so the
// merged view shows which one is on top.
var layerFiles = map[string]map[string]string{
	"layer1": {
		"greeting":      "hello from layer1\n",
		"version":       "1\n",
		"notes.txt":     "notes from layer1\n",
		"config/a.conf": "a=1\n",
		"config/b.conf": "b=1\n",
	},
	"layer2": {
		"version": "2\n",
		"app.txt": "app from layer2\n",
	},
}

// workOf is this lab's workspace as a check sees it.
func workOf(h checker.Host) string { return filepath.Join(h.Workspace(), ID) }

// storeOf is the image store `lab image` uses: the CLI keeps workspaces
// in STATE/work and images in STATE/images, side by side.
func storeOf(h checker.Host) string { return filepath.Join(filepath.Dir(h.Workspace()), "images") }

// layers is the Setup and the Materials of the steps that start from the
// two layer directories.
func layers(ctx context.Context, env *steps.Env) error { return writeLayers(env.Dir) }

// writeLayers (re)creates layer1 and layer2 with their files.
func writeLayers(dir string) error {
	for layer, files := range layerFiles {
		for name, body := range files {
			p := filepath.Join(dir, layer, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
				return fmt.Errorf("write layer file: %w", err)
			}
		}
	}
	return nil
}

// removeAll unmounts whatever is mounted at or below each path, then
// removes it: never delete through a mount point.
func removeAll(dir string, names ...string) error {
	for _, n := range names {
		p := filepath.Join(dir, n)
		if err := mount.UnmountAll(p); err != nil {
			return err
		}
		if err := os.RemoveAll(p); err != nil {
			return fmt.Errorf("remove %s: %w", p, err)
		}
	}
	return nil
}

// Reset unmounts every mount under the workspace and removes the images
// named lab-* from the image store.
func Reset(ctx context.Context, env *steps.Env) error {
	if err := mount.UnmountAll(env.Dir); err != nil {
		return err
	}
	return removeLabImages(storeOf(env.Host))
}

// removeLabImages removes every image name starting with "lab-", the
// names this lab tells the learner to use. It never creates a store.
func removeLabImages(root string) error {
	if _, err := os.Stat(filepath.Join(root, "index.json")); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	s, err := image.Open(root)
	if err != nil {
		return err
	}
	all, err := s.List()
	if err != nil {
		return err
	}
	for _, img := range all {
		for _, n := range img.Names {
			if strings.HasPrefix(n, "lab-") {
				if _, _, err := s.Remove(n); err != nil && !errors.Is(err, image.ErrNotFound) {
					return err
				}
			}
		}
	}
	return nil
}
