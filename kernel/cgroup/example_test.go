package cgroup_test

import (
	"fmt"
	"os"

	"github.com/lab-edu/lab/kernel/cgroup"
)

// The same limit has a different file in each version.
func ExampleHierarchy_Path() {
	v1 := cgroup.Hierarchy{Version: cgroup.V1, Root: cgroup.DefaultRoot}
	v2 := cgroup.Hierarchy{Version: cgroup.V2, Root: cgroup.DefaultRoot}
	fmt.Println(v1.Path(cgroup.MemoryLimit, "lab-mem"))
	fmt.Println(v2.Path(cgroup.MemoryLimit, "lab-mem"))
	fmt.Println(v1.Path(cgroup.CPUQuota, "lab-cpu"))
	fmt.Println(v2.Path(cgroup.CPUQuota, "lab-cpu"))
	// Output:
	// /sys/fs/cgroup/memory/lab-mem/memory.limit_in_bytes
	// /sys/fs/cgroup/lab-mem/memory.max
	// /sys/fs/cgroup/cpu/lab-cpu/cpu.cfs_quota_us
	// /sys/fs/cgroup/lab-cpu/cpu.max
}

// cpu.max holds a quota and a period in microseconds.
func ExampleParseCPUMax() {
	c, _ := cgroup.ParseCPUMax("20000 100000")
	fmt.Printf("%.0f%% of one CPU\n", c.CPUs()*100)
	// Output: 20% of one CPU
}

// Readers take an fs.FS: here a tree captured on a cgroup v2 host.
func ExampleHierarchy_ReadOOMKills() {
	h := cgroup.Hierarchy{Version: cgroup.V2, Root: cgroup.DefaultRoot}
	n, err := h.ReadOOMKills(os.DirFS("testdata/v2"), "lab-mem")
	fmt.Println(n, err)
	// Output: 3 <nil>
}
