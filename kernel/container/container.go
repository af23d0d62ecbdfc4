package container

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/lab-edu/lab/kernel/container/ctrinit"
	"github.com/lab-edu/lab/kernel/image"
)

// Docker's exit codes for a container that never ran its command.
const (
	ExitEngine     = ctrinit.ExitEngine    // 125: the runtime failed: bad option, unknown image, name in use...
	ExitCannotRun  = ctrinit.ExitCannotRun // 126: the command exists but cannot be executed
	ExitNotFound   = ctrinit.ExitNotFound  // 127: the command does not exist in the container
	exitSignalBase = 128                   // 128+N: the command died of signal N (137 = SIGKILL)
)

// Error is a failure with the exit code docker gives it. Create, Run and
// Start return one for every failure that happens before the command runs.
type Error struct {
	Code int
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// engineError wraps err as exit 125.
func engineError(err error) error {
	var ce *Error
	if errors.As(err, &ce) {
		return err
	}
	return &Error{Code: ExitEngine, Err: err}
}

// ErrNotFound is returned (wrapped) by Load for an unknown name or ID.
var ErrNotFound = errors.New("no such container")

// Container is one container's state directory, <root>/containers/<id>.
type Container struct {
	ID      string // 64 hex digits
	Name    string
	Root    string // the lab state directory (LAB_ROOT)
	ImageID string // the image's config digest ("" with Spec.Rootfs)

	Spec  Spec
	State State

	img     *image.Image // the image, once read from the store
	console bool         // launch gives the command a terminal of its own devpts
}

// ShortID is the first 12 hex digits of the ID, as docker prints it.
func (c *Container) ShortID() string { return c.ID[:12] }

// Dir is the container's state directory.
func (c *Container) Dir() string { return filepath.Join(c.Root, "containers", c.ID) }

// RootfsDir is where the container's overlay is mounted (inside the
// container's own mount namespace, so the host never sees the mount).
func (c *Container) RootfsDir() string { return filepath.Join(c.Dir(), "rootfs") }

// UpperDir is the overlay upper directory: every file the container
// changed, created or deleted (as a whiteout).
func (c *Container) UpperDir() string { return filepath.Join(c.Dir(), "upper") }

// WorkDir is overlayfs's scratch directory.
func (c *Container) WorkDir() string { return filepath.Join(c.Dir(), "work") }

// LogPath is the file holding a detached container's stdout and stderr.
func (c *Container) LogPath() string { return filepath.Join(c.Dir(), "ctr.log") }

// CgroupName is the container's cgroup: lab-ctr-<id12>, under each v1
// controller's root or under the v2 root.
func (c *Container) CgroupName() string { return CgroupPrefix + c.ShortID() }

// CgroupPrefix starts the name of every container cgroup.
const CgroupPrefix = "lab-ctr-"

// Process is one line of `lab container top`.
type Process struct {
	PID     int    `json:"pid"` // host PID
	PPID    int    `json:"ppid"`
	UID     int    `json:"uid"`
	State   string `json:"state"`
	Command string `json:"command"`
}

// ExecSpec is what `lab container exec` runs in a running container.
type ExecSpec struct {
	Cmd     []string
	Env     []string
	Workdir string
	User    string
	TTY     bool
}

// Info is what `lab container inspect` prints.
type Info struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Image    string   `json:"image"`
	Cmd      []string `json:"cmd"`
	State    State    `json:"state"`
	Dir      string   `json:"dir"`
	Cgroup   string   `json:"cgroup"`
	Mounts   []Volume `json:"mounts"`
	Limits   Limits   `json:"limits"`
	Caps     []string `json:"caps"` // the capabilities the command gets
	Net      string   `json:"net"`
	Hostname string   `json:"hostname"`
	// UserNS is "host", or "private" with the ID mapping of --userns private.
	UserNS string        `json:"userns"`
	UIDMap []IDMap       `json:"uid_map,omitempty"`
	Uptime time.Duration `json:"-"`
}

// IDMap is one line of a user namespace's uid_map or gid_map: Size IDs
// from Inside are Outside and up on the host.
type IDMap struct {
	Inside  int `json:"inside"`
	Outside int `json:"outside"`
	Size    int `json:"size"`
}

// Limits are the cgroup limits of a container, 0 for none.
type Limits struct {
	Memory    int64   `json:"memory"`
	CPUs      float64 `json:"cpus"`
	PidsLimit int64   `json:"pids_limit"`
}

// idOK reports whether s looks like a full container ID.
func idOK(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, r := range s {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return false
		}
	}
	return true
}

func (c *Container) String() string { return fmt.Sprintf("%s (%s)", c.Name, c.ShortID()) }
