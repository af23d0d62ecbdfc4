package cgroup

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/containerd/cgroups/v3/cgroup2"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Devices is the v1 devices controller. The lab's other functions leave it
// alone; only LimitDevices and DeleteDevices use it.
const Devices = "devices"

// DeviceRule allows one kind of device access: Type 'c' (character), 'b'
// (block) or 'a' (all), Major and Minor (-1 for any), Access a subset of
// "rwm" (read, write, mknod).
type DeviceRule struct {
	Type         byte
	Major, Minor int64
	Access       string
}

// String renders the rule as devices.allow reads it: "c 1:3 rwm", "c *:* m".
func (r DeviceRule) String() string {
	num := func(n int64) string {
		if n < 0 {
			return "*"
		}
		return fmt.Sprint(n)
	}
	return fmt.Sprintf("%c %s:%s %s", r.Type, num(r.Major), num(r.Minor), r.Access)
}

// ContainerDevices is Docker's default device allow-list minus "b *:* m":
// any character device may be created (mknod) but only the harmless ones
// opened (null, zero, full, random, urandom, tty, console, ptmx, the
// pseudo-terminals, tun); no block device may be created or opened, so a
// container cannot reach a host disk even with CAP_MKNOD.
var ContainerDevices = []DeviceRule{
	{'c', -1, -1, "m"},
	{'c', 1, 3, "rwm"}, {'c', 1, 5, "rwm"}, {'c', 1, 7, "rwm"},
	{'c', 1, 8, "rwm"}, {'c', 1, 9, "rwm"},
	{'c', 5, 0, "rwm"}, {'c', 5, 1, "rwm"}, {'c', 5, 2, "rwm"},
	{'c', 136, -1, "rwm"}, {'c', 10, 200, "rwm"},
}

// v2DeviceRules turns allow into the OCI rules containerd's cgroup2 builds
// its eBPF device filter from: first "deny everything" (type 'a'), then
// each allowed kind. Major and Minor are always set: the filter builder
// reads them without a nil check and takes -1 as "any" (the OCI default
// when a rule names no number).
func v2DeviceRules(allow []DeviceRule) []specs.LinuxDeviceCgroup {
	rules := []specs.LinuxDeviceCgroup{{Allow: false, Type: "a", Major: Ptr[int64](-1), Minor: Ptr[int64](-1), Access: "rwm"}}
	for _, r := range allow {
		rules = append(rules, specs.LinuxDeviceCgroup{
			Allow: true, Type: string(r.Type), Major: Ptr(r.Major), Minor: Ptr(r.Minor), Access: r.Access,
		})
	}
	return rules
}

// LimitDevices lets the tasks of group use only the devices allow lists.
//
// v1: the devices controller's group/devices.deny gets "a" (deny all),
// then each rule is written to devices.allow. Equivalent to:
// mkdir /sys/fs/cgroup/devices/G; echo a > .../devices.deny; echo 'c 1:3 rwm' > .../devices.allow
//
// v2 has no devices files: an eBPF program of type BPF_PROG_TYPE_CGROUP_DEVICE
// attached to the group decides each access. containerd's cgroup2 builds
// and attaches it from the same rules.
func (h Hierarchy) LimitDevices(group string, allow []DeviceRule) error {
	if h.Version == V2 {
		m, err := cgroup2.Load("/"+strings.Trim(group, "/"), cgroup2.WithMountpoint(h.Root))
		if err != nil {
			return fmt.Errorf("load group %s (%s): %w", group, h.Version, err)
		}
		if err := m.Update(&cgroup2.Resources{Devices: v2DeviceRules(allow)}); err != nil {
			return fmt.Errorf("device filter of %s (%s): %w", group, h.Version, err)
		}
		return nil
	}
	dir := h.Dir(Devices, group)
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("create group %s (%s): %w", group, h.Version, err)
	}
	write := func(file, rule string) error {
		if err := os.WriteFile(dir+"/"+file, []byte(rule), 0); err != nil {
			return fmt.Errorf("%s of %s: %w", file, group, err)
		}
		return nil
	}
	if err := write("devices.deny", "a"); err != nil {
		return err
	}
	for _, r := range allow {
		if err := write("devices.allow", r.String()); err != nil {
			return err
		}
	}
	return nil
}

// DeleteDevices removes group from the v1 devices hierarchy (Delete covers
// the lab's usual controllers only). Idempotent; nothing to do on v2.
func (h Hierarchy) DeleteDevices(group string) error {
	if h.Version == V2 {
		return nil
	}
	dir := h.Dir(Devices, group)
	if err := unix.Rmdir(dir); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("remove group %s: %w", dir, &os.PathError{Op: "rmdir", Path: dir, Err: err})
	}
	return nil
}
