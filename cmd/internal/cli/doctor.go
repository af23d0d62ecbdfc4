package cli

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lab-edu/lab/kernel/container"
	"github.com/lab-edu/lab/kernel/procfs"
)

type doctorOptions struct {
	f        *Factory
	Sys      fs.FS                             // the machine, rooted at /
	LookPath func(name string) (string, error) // exec.LookPath, swappable in tests
}

func newCmdDoctor(f *Factory, runF func(*doctorOptions) error) *cobra.Command {
	opts := &doctorOptions{f: f, Sys: os.DirFS("/"), LookPath: lookPathSbin}
	return &cobra.Command{
		Use:   "doctor",
		Short: "Check that this machine is ready for the labs",
		Long: `Check, one line per item, what the labs need: root, the kernel version,
the cgroup mode and controllers, overlayfs, user namespaces, the tools
students use, and whether this is a VM. Exit status 3 when something
required is missing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runDoctor(opts)
		},
	}
}

// doctorItem is one line of the report.
type doctorItem struct {
	Name     string
	OK       bool
	Required bool
	Detail   string
}

func runDoctor(opts *doctorOptions) error {
	items := append(doctorItems(opts.Sys, opts.f.Euid(), opts.LookPath), labInitItem(container.InitProgram()))
	var missing []string
	for _, it := range items {
		mark := "✓"
		switch {
		case !it.OK && it.Required:
			mark = "✗"
			missing = append(missing, it.Name)
		case !it.OK:
			mark = "-"
		}
		fmt.Fprintf(opts.f.IO.Out, "%s %-16s %s\n", mark, it.Name, it.Detail)
	}
	if len(missing) > 0 {
		return &ExitError{Code: ExitEnv, Err: fmt.Errorf("not ready: %s", strings.Join(missing, ", "))}
	}
	fmt.Fprintln(opts.f.IO.Out, "Ready: `sudo lab start chroot` begins the first lab.")
	return nil
}

// labTools are the programs students type in the labs, with the Debian
// package that has each.
var labTools = []struct{ name, pkg string }{
	{"ip", "iproute2"}, {"unshare", "util-linux"}, {"nsenter", "util-linux"},
	{"busybox", "busybox-static"}, {"capsh", "libcap2-bin"}, {"setcap", "libcap2-bin"},
	{"iptables", "iptables"},
}

func doctorItems(sys fs.FS, euid int, lookPath func(string) (string, error)) []doctorItem {
	items := []doctorItem{rootItem(euid), kernelItem(sys), cgroupItem(sys), overlayItem(sys), usernsItem(sys)}
	for _, t := range labTools {
		it := doctorItem{Name: t.name, Required: true}
		if path, err := lookPath(t.name); err == nil {
			it.OK, it.Detail = true, path
		} else {
			it.Detail = "not found: sudo apt-get install " + t.pkg
		}
		items = append(items, it)
	}
	return append(items, vmItem(sys))
}

func rootItem(euid int) doctorItem {
	it := doctorItem{Name: "root", Required: true, OK: euid == 0}
	if it.OK {
		it.Detail = "running as uid 0"
	} else {
		it.Detail = fmt.Sprintf("running as uid %d: run lab with sudo", euid)
	}
	return it
}

func kernelItem(sys fs.FS) doctorItem {
	b, err := fs.ReadFile(sys, "proc/sys/kernel/osrelease")
	if err != nil {
		return doctorItem{Name: "kernel", Required: true, Detail: "cannot read /proc/sys/kernel/osrelease: is /proc mounted?"}
	}
	return doctorItem{Name: "kernel", OK: true, Required: true, Detail: "Linux " + strings.TrimSpace(string(b))}
}

// CgroupInfo is how cgroups are mounted here.
type CgroupInfo struct {
	Mode        string   // "v2" (unified), "hybrid" (v1 plus cgroup2 beside), "v1", or "none"
	V1          []string // controllers with a v1 hierarchy
	V2          []string // controllers enabled in the cgroup2 root
	UnifiedPath string   // where cgroup2 is mounted
}

// ReadCgroupInfo finds the cgroup mode from the mount table: cgroup2 at
// /sys/fs/cgroup is v2; v1 hierarchies (filesystem type "cgroup", their
// controllers named in the super options) with or without a cgroup2 beside
// them are hybrid or v1. The v2 controllers are listed in
// cgroup.controllers of the cgroup2 root.
func ReadCgroupInfo(sys fs.FS) (CgroupInfo, error) {
	mounts, err := procfs.ReadMountInfo(sys, "self")
	if err != nil {
		return CgroupInfo{Mode: "none"}, err
	}
	var info CgroupInfo
	for _, m := range mounts {
		switch m.FSType {
		case "cgroup2":
			if info.UnifiedPath == "" || m.Point == "/sys/fs/cgroup" {
				info.UnifiedPath = m.Point
			}
		case "cgroup":
			for _, opt := range strings.Split(m.SuperOptions, ",") {
				if opt != "rw" && opt != "ro" && !strings.Contains(opt, "=") && !strings.HasPrefix(opt, "no") && opt != "clone_children" && opt != "xattr" {
					info.V1 = append(info.V1, opt)
				}
			}
		}
	}
	slices.Sort(info.V1)
	info.V1 = slices.Compact(info.V1)
	if info.UnifiedPath != "" {
		b, _ := fs.ReadFile(sys, strings.TrimPrefix(filepath.Join(info.UnifiedPath, "cgroup.controllers"), "/"))
		info.V2 = strings.Fields(string(b))
	}
	switch {
	case info.UnifiedPath == "/sys/fs/cgroup" && len(info.V1) == 0:
		info.Mode = "v2"
	case len(info.V1) > 0 && info.UnifiedPath != "":
		info.Mode = "hybrid"
	case len(info.V1) > 0:
		info.Mode = "v1"
	case info.UnifiedPath != "":
		info.Mode = "v2"
	default:
		info.Mode = "none"
	}
	return info, nil
}

func cgroupItem(sys fs.FS) doctorItem {
	it := doctorItem{Name: "cgroups", Required: true}
	info, err := ReadCgroupInfo(sys)
	if err != nil {
		it.Detail = "cannot read /proc/self/mountinfo: " + err.Error()
		return it
	}
	have := append(slices.Clone(info.V1), info.V2...)
	var lacking []string
	for _, c := range []string{"memory", "cpu", "pids"} {
		if !slices.Contains(have, c) {
			lacking = append(lacking, c)
		}
	}
	switch info.Mode {
	case "v2":
		it.Detail = "v2 (unified) at " + info.UnifiedPath + ", controllers: " + strings.Join(info.V2, " ")
	case "hybrid":
		it.Detail = "hybrid: v1 controllers " + strings.Join(info.V1, " ") + "; cgroup2 at " + info.UnifiedPath
		if len(info.V2) > 0 {
			it.Detail += " with " + strings.Join(info.V2, " ")
		} else {
			it.Detail += " (no controllers)"
		}
	case "v1":
		it.Detail = "v1, controllers: " + strings.Join(info.V1, " ")
	default:
		it.Detail = "no cgroup filesystem mounted"
		return it
	}
	it.OK = len(lacking) == 0
	if !it.OK {
		it.Detail += "; missing controllers: " + strings.Join(lacking, " ")
	}
	return it
}

func overlayItem(sys fs.FS) doctorItem {
	it := doctorItem{Name: "overlayfs", Required: true}
	if b, err := fs.ReadFile(sys, "proc/filesystems"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) > 0 && f[len(f)-1] == "overlay" {
				it.OK, it.Detail = true, "overlay in /proc/filesystems"
				return it
			}
		}
	}
	release, _ := fs.ReadFile(sys, "proc/sys/kernel/osrelease")
	if _, err := fs.Stat(sys, "lib/modules/"+strings.TrimSpace(string(release))+"/kernel/fs/overlayfs"); err == nil {
		it.OK, it.Detail = true, "module overlay available (the kernel loads it on first mount)"
		return it
	}
	it.Detail = "overlay is not in /proc/filesystems: sudo modprobe overlay"
	return it
}

func usernsItem(sys fs.FS) doctorItem {
	it := doctorItem{Name: "user namespaces", Required: true}
	b, err := fs.ReadFile(sys, "proc/sys/user/max_user_namespaces")
	if err != nil {
		it.Detail = "no /proc/sys/user/max_user_namespaces: kernel without CONFIG_USER_NS"
		return it
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if n == 0 {
		it.Detail = "user.max_user_namespaces is 0: sudo sysctl -w user.max_user_namespaces=15000"
		return it
	}
	it.OK, it.Detail = true, fmt.Sprintf("allowed (user.max_user_namespaces=%d)", n)
	// Debian's kernels have this switch for unprivileged users; root can
	// create user namespaces either way.
	if b, err := fs.ReadFile(sys, "proc/sys/kernel/unprivileged_userns_clone"); err == nil && strings.TrimSpace(string(b)) == "0" {
		it.Detail += "; unprivileged users may not (kernel.unprivileged_userns_clone=0)"
	}
	return it
}

// labInitItem says whether containers start as the small lab-init
// installed beside lab (path, small) or as lab re-executed: advice, lab
// works either way.
func labInitItem(path string, small bool) doctorItem {
	it := doctorItem{Name: "lab-init", OK: small}
	if small {
		it.Detail = path + ": every container's first process"
	} else {
		it.Detail = "not beside lab: containers start as lab itself, a few ms slower (sudo make install puts both in /usr/local/bin)"
	}
	return it
}

// vmItem says whether this is a virtual machine: the DMI vendor or product
// names a hypervisor, or the CPU flags include "hypervisor" (set by every
// hypervisor in CPUID). It is advice, not a requirement.
func vmItem(sys fs.FS) doctorItem {
	it := doctorItem{Name: "virtual machine"}
	for _, file := range []string{"sys/class/dmi/id/sys_vendor", "sys/class/dmi/id/product_name"} {
		b, _ := fs.ReadFile(sys, file)
		v := strings.TrimSpace(string(b))
		for _, hv := range []string{"QEMU", "KVM", "VirtualBox", "innotek", "VMware", "Xen", "Microsoft Corporation", "Parallels", "Bochs", "Amazon EC2", "Google"} {
			if v != "" && strings.Contains(v, hv) {
				it.OK, it.Detail = true, "yes ("+v+")"
				return it
			}
		}
	}
	if b, err := fs.ReadFile(sys, "proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), ":")
			if ok && strings.TrimSpace(k) == "flags" && slices.Contains(strings.Fields(v), "hypervisor") {
				it.OK, it.Detail = true, "yes (hypervisor flag in /proc/cpuinfo)"
				return it
			}
		}
	}
	it.Detail = "no: the labs change kernel state, a VM (vagrant/) is the safer place"
	return it
}

// lookPathSbin is exec.LookPath that also looks in the sbin directories,
// which are not on a normal user's PATH but are on root's.
func lookPathSbin(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: %w", name, exec.ErrNotFound)
}
