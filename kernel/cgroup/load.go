package cgroup

import "time"

// Limits of the load generators: they always stop.
const (
	MaxAlloc = 1 << 30          // AllocMemory allocates at most 1 GiB
	MaxBurn  = 60 * time.Second // BurnCPU runs at most a minute
	MaxForks = 1000             // ForkBomb forks at most this many children
)

// ForkResult is what a bounded fork bomb saw.
type ForkResult struct {
	Tasks   int    `json:"tasks_before"` // tasks (threads) of this process before forking
	Forked  int    `json:"forked"`       // children that fork created
	Refused bool   `json:"refused"`      // a fork failed before max
	Errno   string `json:"errno,omitempty"`
}
