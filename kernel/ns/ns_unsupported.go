//go:build !linux

package ns

import (
	"context"
	"errors"
	"os/exec"
	"time"

	"github.com/lab-edu/lab/kernel/procfs"
)

// Namespaces are Linux's: on other systems the operations the lab's steps
// reach return errors.ErrUnsupported, so the code still builds and vets.

func Command(spec Spec, name string, args ...string) *exec.Cmd { return exec.Command(name, args...) }
func Apply(spec Spec, cmd *exec.Cmd) *exec.Cmd                 { return cmd }
func HoldCommand(spec Spec, opts HoldOptions) *exec.Cmd        { return exec.Command("false") }
func StartDetached(cmd *exec.Cmd) (int, error)                 { return 0, errors.ErrUnsupported }
func Do(pid int, kinds []Kind, fn func() error) error          { return errors.ErrUnsupported }
func Unshare(kinds ...Kind) error                              { return errors.ErrUnsupported }
func SetHostname(name string) error                            { return errors.ErrUnsupported }
func SetDomainname(name string) error                          { return errors.ErrUnsupported }
func UTSNames(pid int) (Names, error)                          { return Names{}, errors.ErrUnsupported }
func MsgQueues(pid int) ([]procfs.SysvIPC, error)              { return nil, errors.ErrUnsupported }
func RemoveMsgQueuesIn(pid int, keys ...int32) error           { return errors.ErrUnsupported }
func CreateMsgQueue(key int32, perm uint32) (int, error)       { return 0, errors.ErrUnsupported }
func RemoveMsgQueue(id int) error                              { return errors.ErrUnsupported }
func CreateShm(key int32, size int, perm uint32) (int, error)  { return 0, errors.ErrUnsupported }
func RemoveShm(id int) error                                   { return errors.ErrUnsupported }
func ShmSegments(pid int) ([]procfs.SysvIPC, error)            { return nil, errors.ErrUnsupported }
func CreateShmIn(pid int, key int32, size int) error           { return errors.ErrUnsupported }
func RemoveShmIn(pid int, keys ...int32) error                 { return errors.ErrUnsupported }
func Kill(id ID) error                                         { return errors.ErrUnsupported }
func KillPIDs(pids ...int) error                               { return errors.ErrUnsupported }
func KillAndWait(timeout time.Duration, pids ...int) error     { return errors.ErrUnsupported }
func UnbindAll(dir string) error                               { return errors.ErrUnsupported }
func Owner(pid int, kind Kind) (ID, error)                     { return ID{}, errors.ErrUnsupported }
func ProbeUser(ctx context.Context, pid int) (UserProbe, error) {
	return UserProbe{}, errors.ErrUnsupported
}
func ObserveInitDeath(timeout time.Duration) (InitDeath, error) {
	return InitDeath{}, errors.ErrUnsupported
}
func JoinCommand(ctx context.Context, pid int, kinds []Kind, entry string, args ...string) (*exec.Cmd, func(), error) {
	return nil, nil, errors.ErrUnsupported
}
