package labs

import (
	capslab "github.com/lab-edu/lab/steps/caps"
	cgroupslab "github.com/lab-edu/lab/steps/cgroups"
	chrootlab "github.com/lab-edu/lab/steps/chroot"
	minidockerlab "github.com/lab-edu/lab/steps/minidocker"
	mountlab "github.com/lab-edu/lab/steps/mountns"
	nslab "github.com/lab-edu/lab/steps/namespaces"
	netnslab "github.com/lab-edu/lab/steps/netns"
	overlaylab "github.com/lab-edu/lab/steps/overlay"
)

// All returns every lab in course order. Each lab package adds itself here
// with one line.
func All() []Lab {
	return []Lab{
		{ID: chrootlab.ID, Title: "chroot: a root filesystem, and why it is not a jail", Summary: "Build a busybox rootfs, run a process inside it, see what chroot does not isolate, escape from it, and build a pivot_root jail that holds", Steps: chrootlab.Steps, Reset: chrootlab.Reset},
		{ID: "uts", Title: "UTS namespace: a hostname of your own", Summary: "unshare --uts, a hostname only the namespace sees, /proc/PID/ns and lsns, joining with nsenter", Requires: []string{"chroot"}, Steps: nslab.UTSSteps},
		{ID: "pid", Title: "PID namespace: PID 1, its own /proc, and the death of init", Summary: "unshare --pid --fork --mount-proc, NSpid, nested PID namespaces, what the kernel does when PID 1 dies", Requires: []string{"uts"}, Steps: nslab.PIDSteps},
		{ID: mountlab.ID, Title: "mount: propagation, a private tmpfs, pivot_root", Summary: "Private and shared mount propagation, a tmpfs only a mount namespace sees, a live propagation experiment, and pivot_root with the old root detached", Requires: []string{"chroot", "pid"}, Steps: mountlab.Steps, Reset: mountlab.Reset},
		{ID: "user", Title: "User namespace: root inside, nobody outside", Summary: "uid_map and gid_map, and the capabilities root of a user namespace has over what it owns, and not over the host", Requires: []string{"pid"}, Steps: nslab.UserSteps},
		{ID: "ipc", Title: "IPC namespace: System V objects per namespace", Summary: "a message queue and a shared memory segment that ipcs shows in one IPC namespace and not in the host's; joining it with nsenter --ipc", Requires: []string{"uts"}, Steps: nslab.IPCSteps},
		{ID: netnslab.ID, Title: netnslab.Title, Summary: netnslab.Summary, Requires: []string{"uts"}, Steps: netnslab.Steps(), Reset: netnslab.Reset},
		{ID: "cgroups", Title: "Control groups: limit, account, freeze", Summary: "A memory limit and a real OOM kill, a CPU quota and measured throttling, a pids limit that stops a fork bomb, freezing, accounting; on cgroup v1 and v2", Requires: []string{"pid"}, Steps: cgroupslab.Steps, Reset: cgroupslab.Reset},
		{ID: capslab.Lab, Title: "Capabilities: root split into tokens", Summary: "Decode capability sets, drop CAP_NET_RAW for good with the bounding set, give one capability to one binary, root without capabilities, no_new_privs, and what containers keep", Steps: capslab.Steps, Reset: capslab.Reset},
		{ID: overlaylab.ID, Title: "overlay: layers, copy-up, whiteouts, images", Summary: "Stack layers with overlayfs as Docker does, watch copy-up, whiteouts and opaque dirs appear, share layers between two containers, and build an image layer named by its sha256", Requires: []string{"mount"}, Steps: overlaylab.Steps, Reset: overlaylab.Reset},
		{ID: minidockerlab.ID, Title: "minidocker: write your own container runtime", Summary: "The finale: a Go skeleton of a container runtime with one TODO per topic (namespaces, hostname, pivot_root, /proc, cgroup, capabilities, network), graded by running your program and inspecting the container it starts", Requires: []string{"chroot", "uts", "pid", "mount", "user", "ipc", "netns", "cgroups", "caps", "overlay"}, Steps: minidockerlab.Steps, Reset: minidockerlab.Reset},
	}
}
