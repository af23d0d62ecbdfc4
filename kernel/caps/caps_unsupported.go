//go:build !linux

package caps

import (
	"context"
	"errors"
	"os/exec"
	"time"
)

// The probes and changes need Linux; the parsers, names and file
// capability encoding in the other files work everywhere.

func Apply(Creds) error                  { return errors.ErrUnsupported }
func SetNoNewPrivs() error               { return errors.ErrUnsupported }
func InNewNetns(*exec.Cmd)               {}
func Detach(*exec.Cmd)                   {}
func Command(Creds, ...string) *exec.Cmd { return &exec.Cmd{Err: errors.ErrUnsupported} }

func ReadFileCaps(string) (FileCaps, bool, error) { return FileCaps{}, false, errors.ErrUnsupported }
func WriteFileCaps(string, FileCaps) error        { return errors.ErrUnsupported }
func RemoveFileCaps(string) error                 { return errors.ErrUnsupported }

func TryRawSocket(context.Context, Creds) (error, error) { return nil, errors.ErrUnsupported }
func TryChown(context.Context, Creds, string, int, int) (error, error) {
	return nil, errors.ErrUnsupported
}

type BindResult struct {
	Bound, Exited bool
	Output        string
}

func TryBind(context.Context, Creds, int, time.Duration, ...string) (BindResult, error) {
	return BindResult{}, errors.ErrUnsupported
}
