//go:build !linux

package build

import (
	"context"
	"errors"
	"io"

	"github.com/opencontainers/go-digest"

	"github.com/lab-edu/lab/kernel/image"
)

// Building needs Linux: overlayfs, mount namespaces, pivot_root.

type workspace struct {
	made  map[digest.Digest]layer
	order []digest.Digest
}

type stepDirs struct{ upper string }

type runJob struct {
	Argv          []string
	Env           []string
	Workdir, User string
}

func newWorkspace(string) (*workspace, error) { return nil, errors.ErrUnsupported }
func (w *workspace) remove()                  {}
func (w *workspace) newStep() (*stepDirs, error) {
	return nil, errors.ErrUnsupported
}
func (w *workspace) archive(*stepDirs) (layer, error) { return layer{}, errors.ErrUnsupported }
func (w *workspace) copy(context.Context, *state, *stepDirs, copyJob) error {
	return errors.ErrUnsupported
}
func (w *workspace) mkdir(context.Context, *state, *stepDirs, string) error {
	return errors.ErrUnsupported
}
func (w *workspace) run(context.Context, *state, *stepDirs, runJob, string, io.Writer, io.Writer) error {
	return errors.ErrUnsupported
}

// CommitOptions describe a `docker commit` (Linux only).
type CommitOptions struct {
	Upper, Base, Name, Comment, Author string
	Cmd, Env                           []string
	WorkingDir, User                   string
}

// Commit needs Linux.
func Commit(s *image.Store, opts CommitOptions) (digest.Digest, error) {
	return "", errors.ErrUnsupported
}

// Export needs Linux.
func Export(ctx context.Context, w io.Writer, lower []string, scratch string) error {
	return errors.ErrUnsupported
}

// Cleanup needs Linux.
func Cleanup(storeRoot string) error { return errors.ErrUnsupported }
