//go:build !linux

package minidockerlab

import (
	"context"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/kernel/cgroup"
)

// start needs Linux: the checks run the student's container runtime.
func start(ctx context.Context, h checker.Host, name string) (*miniRun, *checker.Result) {
	r := checker.Skipped(name, "the minidocker checks need Linux", "run lab on the lab VM")
	return nil, &r
}

func (c *miniRun) stop() {}

func teardownRun(work string, groups []cgroup.Membership) error { return nil }
