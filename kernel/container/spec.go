package container

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/lab-edu/lab/kernel/container/ctrinit"
)

// Network modes of Spec.Net.
const (
	NetBridge = "bridge" // a veth on the lab0 bridge (kernel/cnet)
	NetNone   = "none"   // a new network namespace with only lo
	NetHost   = "host"   // the host's network namespace
)

// Spec is what `lab run` asks for: the image and command, and every option
// docker run has that this runtime supports. It is stored as config.json in
// the container's state directory.
type Spec struct {
	Image    string   `json:"image"`
	Cmd      []string `json:"cmd,omitempty"` // empty: the image's Entrypoint+Cmd
	Env      []string `json:"env,omitempty"` // KEY=VALUE, added to the image's
	Workdir  string   `json:"workdir,omitempty"`
	User     string   `json:"user,omitempty"` // UID[:GID]
	Hostname string   `json:"hostname,omitempty"`
	Name     string   `json:"name,omitempty"`

	Memory    int64   `json:"memory,omitempty"`     // bytes, 0 for no limit
	CPUs      float64 `json:"cpus,omitempty"`       // CPUs of time per period, 0 for no limit
	PidsLimit int64   `json:"pids_limit,omitempty"` // tasks, 0 for no limit

	CapAdd  []string `json:"cap_add,omitempty"`  // "NET_ADMIN", "CAP_SYS_TIME", "ALL"
	CapDrop []string `json:"cap_drop,omitempty"` // "NET_RAW", "ALL"

	ReadOnly    bool     `json:"read_only,omitempty"` // the root file system is mounted read-only
	Net         string   `json:"net,omitempty"`       // NetBridge (default), NetNone or NetHost
	Ports       []Port   `json:"ports,omitempty"`
	Volumes     []Volume `json:"volumes,omitempty"`
	VolumesFrom []string `json:"volumes_from,omitempty"` // containers whose Volumes this one gets too

	// CgroupNS gives the container its own cgroup namespace: its
	// /proc/self/cgroup then shows its group as "/".
	CgroupNS bool `json:"cgroupns,omitempty"`

	// UserNS gives the container a user namespace of its own (--userns
	// private): root inside is uid and gid UserNSHostID on the host, and
	// its capabilities count only over what that namespace owns. The
	// image's layers are seen through idmapped mounts (kernel/overlay
	// MountIDMapped), so nothing on disk is chowned.
	UserNS bool `json:"userns,omitempty"`

	Detach      bool `json:"detach,omitempty"`
	Remove      bool `json:"remove,omitempty"`
	TTY         bool `json:"tty,omitempty"`
	Interactive bool `json:"interactive,omitempty"`

	// Rootfs, when set, is a directory used as the root file system
	// instead of an overlay of Image's layers (kernel/build's RUN steps
	// prepare their own overlay). The runtime neither mounts nor removes it.
	Rootfs string `json:"rootfs,omitempty"`
}

// The ID mapping of every --userns private container: IDs 0-65535 inside
// are UserNSHostID and up on the host (the range /etc/subuid commonly gives
// the first user; lab keeps its own, shared by these containers).
const (
	UserNSHostID = 100000
	UserNSSize   = 65536
)

// Volume is one -v SRC:DST[:ro]: a bind mount of the host path Source at
// Target inside the container.
type Volume = ctrinit.Volume

// ParseVolume parses -v SRC:DST[:ro|rw]. Both paths must be absolute.
func ParseVolume(s string) (Volume, error) {
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return Volume{}, fmt.Errorf("container: volume %q: want SRC:DST[:ro]", s)
	}
	v := Volume{Source: parts[0], Target: parts[1]}
	if len(parts) == 3 {
		switch parts[2] {
		case "ro":
			v.ReadOnly = true
		case "rw":
		default:
			return Volume{}, fmt.Errorf("container: volume %q: mode %q is not ro or rw", s, parts[2])
		}
	}
	if !strings.HasPrefix(v.Source, "/") || !strings.HasPrefix(v.Target, "/") {
		return Volume{}, fmt.Errorf("container: volume %q: both paths must be absolute", s)
	}
	return v, nil
}

// ParseMemory parses a docker memory size: a number of bytes with an
// optional unit b, k, m or g (either case, "64m", "1g", "512k").
func ParseMemory(s string) (int64, error) {
	num, unit := s, int64(1)
	if n := len(s); n > 0 {
		switch strings.ToLower(s[n-1:]) {
		case "b":
			num = s[:n-1]
		case "k":
			num, unit = s[:n-1], 1<<10
		case "m":
			num, unit = s[:n-1], 1<<20
		case "g":
			num, unit = s[:n-1], 1<<30
		}
	}
	v, err := strconv.ParseInt(num, 10, 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("container: memory %q: want a positive size like 64m (units b, k, m, g)", s)
	}
	if v > (1<<62)/unit {
		return 0, fmt.Errorf("container: memory %q is too large", s)
	}
	return v * unit, nil
}

// Stdio are the streams of a foreground container.
type Stdio struct {
	In       io.Reader
	Out, Err io.Writer
}

// Status is a container's lifecycle state, as docker names them.
type Status string

const (
	Created Status = "created"
	Running Status = "running"
	Paused  Status = "paused"
	Exited  Status = "exited"
)

// State is state.json: what happened to the container so far.
type State struct {
	Status     Status `json:"status"`
	Pid        int    `json:"pid,omitempty"`        // host PID of the container's PID 1
	Supervisor int    `json:"supervisor,omitempty"` // host PID of the process that waits for it
	// SupervisorStart is the supervisor's start time (procfs.StartTime):
	// with the PID it tells a live supervisor from a reused PID.
	SupervisorStart uint64    `json:"supervisor_start,omitempty"`
	ExitCode        int       `json:"exit_code"`
	OOMKilled       bool      `json:"oom_killed"`
	Error           string    `json:"error,omitempty"`
	Created         time.Time `json:"created"`
	Started         time.Time `json:"started,omitzero"`
	Finished        time.Time `json:"finished,omitzero"`
	IP              string    `json:"ip,omitempty"`
	Ports           []Port    `json:"ports,omitempty"`
}

// mergeEnv returns base with each KEY=VALUE of over replacing base's KEY.
func mergeEnv(base, over []string) []string {
	out := append([]string{}, base...)
	for _, kv := range over {
		k, _, _ := strings.Cut(kv, "=")
		replaced := false
		for i, b := range out {
			if bk, _, _ := strings.Cut(b, "="); bk == k {
				out[i], replaced = kv, true
			}
		}
		if !replaced {
			out = append(out, kv)
		}
	}
	return out
}
