package ctrinit

import (
	"github.com/lab-edu/lab/kernel/caps"
	"github.com/lab-edu/lab/kernel/overlay"
	"github.com/lab-edu/lab/kernel/rootfs"
)

// The descriptors the parent hands the init, after stdin, stdout, stderr.
const (
	ConfigFD  = 3 // the parent writes Config here (the release), then closes it once the network is ready
	ErrorFD   = 4 // the init writes "CODE message" here if it fails; EOF means exec worked
	ConsoleFD = 5 // -t: a unix socket to send the terminal's master end on
	RootFD    = 6 // --userns private: a unix socket the root's descriptor comes on
)

// Config is everything the init needs, sent by the parent through the
// ConfigFD pipe once the cgroup exists and the container's address is
// known. The parent closes the pipe once eth0 is configured too: the init
// builds the root file system meanwhile and waits for that end of file
// before it execs the command.
type Config struct {
	Rootfs   string         `json:"rootfs"`            // the directory to pivot into
	Layers   overlay.Layers `json:"layers,omitzero"`   // mounted at Rootfs unless Lower is empty
	Cgroups  []string       `json:"cgroups,omitempty"` // v1 "tasks" files to write 0 into
	Hostname string         `json:"hostname"`
	// Loopback: bring lo of the new network namespace up (not for
	// --net host, which has no namespace of its own).
	Loopback bool          `json:"loopback,omitempty"`
	Etc      []rootfs.File `json:"etc,omitempty"` // /etc/hostname, hosts, resolv.conf
	Volumes  []Volume      `json:"volumes,omitempty"`
	ReadOnly bool          `json:"read_only,omitempty"`
	Console  bool          `json:"console,omitempty"`
	// UserNS: the init runs in a user namespace of its own and its root
	// file system is already mounted at Rootfs by the parent (an
	// idmapped overlay, which this process may not mount).
	UserNS bool `json:"userns,omitempty"`
	// Trace: write the init's phases to stderr (see TraceEnv).
	Trace   bool    `json:"trace,omitempty"`
	Process Process `json:"process"`
}

// Volume is one -v SRC:DST[:ro]: a bind mount of the host path Source at
// Target inside the container.
type Volume struct {
	Source   string `json:"source"`
	Target   string `json:"target"`
	ReadOnly bool   `json:"read_only,omitempty"`
}

// Process is what runs: shared by the init and by exec.
type Process struct {
	Args    []string `json:"args"`
	Env     []string `json:"env"`
	Cwd     string   `json:"cwd"`
	User    string   `json:"user,omitempty"` // UID[:GID] or a name of the image's /etc/passwd
	Caps    caps.Set `json:"caps"`
	Console bool     `json:"console,omitempty"` // exec -t: make a terminal, send it on fd 4
}
