//go:build !linux

package netns

import (
	"errors"
	"os"
	"os/exec"
)

// Network namespaces are Linux only: every operation returns
// errors.ErrUnsupported elsewhere, so the lab still builds there.

func CreateNamed(string) error            { return errors.ErrUnsupported }
func DeleteNamed(string) error            { return errors.ErrUnsupported }
func ReleaseDir() error                   { return errors.ErrUnsupported }
func List() ([]string, error)             { return nil, errors.ErrUnsupported }
func IsNsfs(string) (bool, error)         { return false, errors.ErrUnsupported }
func IsNetns(string) (bool, error)        { return false, errors.ErrUnsupported }
func Inode(string) (uint64, error)        { return 0, errors.ErrUnsupported }
func Open(string) (*os.File, error)       { return nil, errors.ErrUnsupported }
func NewAnonymous() (*os.File, error)     { return nil, errors.ErrUnsupported }
func Do(string, func() error) error       { return errors.ErrUnsupported }
func DoFile(*os.File, func() error) error { return errors.ErrUnsupported }
func Pids(string) ([]int, error)          { return nil, errors.ErrUnsupported }
func KillAll(string) error                { return errors.ErrUnsupported }
func Start(string, *exec.Cmd) error       { return errors.ErrUnsupported }
func DirIsMount() (bool, error)           { return false, errors.ErrUnsupported }
func Lock(string) (func(), error)         { return nil, errors.ErrUnsupported }
