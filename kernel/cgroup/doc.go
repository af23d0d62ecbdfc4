// Package cgroup is one small API over the two cgroup hierarchies Linux
// has, built on github.com/containerd/cgroups/v3 (its cgroup1 package for
// v1 and hybrid hosts, cgroup2 for unified hosts).
//
// A control group is a directory in a cgroup filesystem. Making the
// directory creates the group (mkdir(2) on cgroupfs calls the kernel's
// cgroup_mkdir), writing a PID to its cgroup.procs file moves that process
// in, and writing to its controller files sets limits that the kernel
// enforces on every process inside:
//
//	v1 (one tree per controller)                 v2 (one tree for all)
//	/sys/fs/cgroup/memory/lab-mem/                /sys/fs/cgroup/lab-mem/
//	  memory.limit_in_bytes  memory.oom_control     memory.max  memory.events
//	/sys/fs/cgroup/cpu/lab-cpu/                   /sys/fs/cgroup/lab-cpu/
//	  cpu.cfs_quota_us  cpu.cfs_period_us           cpu.max
//	/sys/fs/cgroup/pids/lab-pids/pids.max         /sys/fs/cgroup/lab-pids/pids.max
//	/sys/fs/cgroup/freezer/lab-freeze/            /sys/fs/cgroup/lab-freeze/
//	  freezer.state                                 cgroup.freeze
//
// Detect finds which one the machine uses. A Hierarchy names the files of
// its version (File), reads and parses them through an fs.FS so checks and
// tests can read a captured tree, and changes groups (Create, Update, Add,
// Freeze, Thaw, Delete) through containerd's managers. Errors name the file
// and the version: "memory.max (cgroup v2): ...".
//
// The package also holds small bounded load generators (AllocMemory,
// BurnCPU, ForkBomb) that `lab stress` and the checks' probes run inside a
// group to make a limit visible.
package cgroup
