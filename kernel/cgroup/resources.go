package cgroup

// Resources are the limits Create and Update set. A nil field is left as
// it is. Values use the v2 meaning; v1 files get the converted value.
type Resources struct {
	MemoryMax *int64  // bytes: memory.limit_in_bytes / memory.max
	SwapMax   *int64  // bytes of swap: v1 memsw = MemoryMax+SwapMax / v2 memory.swap.max
	CPUQuota  *int64  // µs per period, -1 for none: cpu.cfs_quota_us / cpu.max
	CPUPeriod *uint64 // µs: cpu.cfs_period_us / cpu.max
	CPUWeight *uint64 // 1..10000: v1 cpu.shares (converted) / cpu.weight
	PidsMax   *int64  // tasks, -1 for none: pids.max
	CPUs      string  // CPU list ("0-1"), "" to leave: cpuset.cpus
}

// Ptr returns a pointer to v, for Resources literals.
func Ptr[T any](v T) *T { return &v }

// controllersOf lists the controllers r needs.
func (r Resources) controllersOf() []string {
	var c []string
	if r.MemoryMax != nil || r.SwapMax != nil {
		c = append(c, Memory)
	}
	if r.CPUQuota != nil || r.CPUPeriod != nil || r.CPUWeight != nil {
		c = append(c, CPU)
	}
	if r.PidsMax != nil {
		c = append(c, Pids)
	}
	if r.CPUs != "" {
		c = append(c, Cpuset)
	}
	return c
}

// WeightToShares converts a v2 cpu.weight (1..10000, default 100) to a v1
// cpu.shares (2..262144, default 1024), the inverse of the conversion runc
// and containerd use for v1 values on v2.
func WeightToShares(weight uint64) uint64 {
	weight = min(max(weight, 1), 10000)
	return 2 + (weight-1)*262142/9999
}
