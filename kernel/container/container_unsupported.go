//go:build !linux

package container

import (
	"context"
	"errors"
	"io"
	"syscall"
	"time"

	"github.com/lab-edu/lab/kernel/cgroup"
)

// Containers need Linux namespaces and cgroups.

func Create(ctx context.Context, root string, spec Spec) (*Container, error) {
	return nil, errors.ErrUnsupported
}
func Run(ctx context.Context, root string, spec Spec, stdio Stdio) (int, error) {
	return ExitEngine, errors.ErrUnsupported
}
func Load(root, ref string) (*Container, error) { return nil, errors.ErrUnsupported }
func InitProgram() (string, bool)               { return "", false }
func List(root string) ([]*Container, error)    { return nil, errors.ErrUnsupported }
func Prune(ctx context.Context, root string, all bool) ([]string, error) {
	return nil, errors.ErrUnsupported
}
func (c *Container) Refresh() error                  { return errors.ErrUnsupported }
func (c *Container) IsRunning() bool                 { return false }
func (c *Container) Start(ctx context.Context) error { return errors.ErrUnsupported }
func (c *Container) Attach(ctx context.Context, stdio Stdio) (int, error) {
	return ExitEngine, errors.ErrUnsupported
}
func (c *Container) Wait(ctx context.Context) (int, error) { return 0, errors.ErrUnsupported }
func (c *Container) Stop(ctx context.Context, timeout time.Duration) error {
	return errors.ErrUnsupported
}
func (c *Container) Kill(sig syscall.Signal) error                { return errors.ErrUnsupported }
func (c *Container) Remove(ctx context.Context, force bool) error { return errors.ErrUnsupported }
func (c *Container) Pause() error                                 { return errors.ErrUnsupported }
func (c *Container) Unpause() error                               { return errors.ErrUnsupported }
func (c *Container) Stats() (cgroup.Stats, error)                 { return cgroup.Stats{}, errors.ErrUnsupported }
func (c *Container) Top() ([]Process, error)                      { return nil, errors.ErrUnsupported }
func (c *Container) Logs(ctx context.Context, w io.Writer, follow bool) error {
	return errors.ErrUnsupported
}
func (c *Container) Exec(ctx context.Context, spec ExecSpec, stdio Stdio) (int, error) {
	return ExitEngine, errors.ErrUnsupported
}
func (c *Container) Inspect() Info                { return Info{} }
func (c *Container) LowerDirs() ([]string, error) { return nil, errors.ErrUnsupported }
