package minidockerlab

import (
	"context"
	"fmt"
	"os"

	"github.com/lab-edu/lab/steps"
)

// topic is one TODO of the skeleton: the step that grades it and the file
// of the student's module it lives in.
type topic struct {
	slug, file, title string
	check             inspect
}

// topics are the TODOs in course order; Steps is built from them.
var topics = []topic{
	{"namespaces", "namespaces.go", "Start the container in new namespaces", checkNamespaces},
	{"hostname", "hostname.go", "Give the container its own hostname", checkHostname},
	{"pivot-root", "pivot.go", "pivot_root into the rootfs and detach the host's root", checkPivotRoot},
	{"proc", "proc.go", "Mount the container's own /proc", checkProc},
	{"cgroup", "cgroup.go", "Put the container in a cgroup with memory and pids limits", checkCgroup},
	{"caps", "caps.go", "Drop capabilities to Docker's default set, and set no_new_privs", checkCaps},
	{"network", "network.go", "Bring the container's loopback interface up", checkNetwork},
}

// The steps, one per topic.
var (
	Namespaces = topicStep(0)
	Hostname   = topicStep(1)
	PivotRoot  = topicStep(2)
	Proc       = topicStep(3)
	Cgroup     = topicStep(4)
	Caps       = topicStep(5)
	Network    = topicStep(6)
)

// topicStep builds the step of topics[i].
//
//   - Setup prepares the rootfs and the skeleton, and solves the earlier
//     topics whose file is still the skeleton's (a student's own version is
//     never replaced), then builds mini when it changed something.
//   - Check runs mini and inspects the container (checks.go).
//   - Solve writes the reference of this topic's file (the student's own
//     version is kept as FILE.orig) and builds mini.
//   - Cleanup stops every container left running and removes their
//     cgroups; the first step's also removes the rootfs. The student's
//     program stays.
func topicStep(i int) steps.Step {
	t := topics[i]
	return steps.Step{
		ID:    ID + "/" + t.slug,
		Title: t.title,
		Setup: func(ctx context.Context, env *steps.Env) error {
			if err := prepare(ctx, env); err != nil {
				return err
			}
			changed := false
			for _, earlier := range topics[:i] {
				if stateOf(programDirOf(env.Dir), earlier.file) == untouched {
					if err := solveFile(env, earlier.file); err != nil {
						return err
					}
					changed = true
				}
			}
			if _, err := os.Stat(binaryOf(env.Dir)); changed || (i > 0 && err != nil) {
				return build(ctx, env)
			}
			return nil
		},
		Materials: prepare,
		Check:     containerCheck(t.title, t.check),
		Solve: func(ctx context.Context, env *steps.Env) error {
			if err := prepare(ctx, env); err != nil {
				return err
			}
			if err := solveFile(env, t.file); err != nil {
				return err
			}
			return build(ctx, env)
		},
		Cleanup: func(ctx context.Context, env *steps.Env) error {
			if err := teardown(env.Dir); err != nil {
				return err
			}
			if i == 0 {
				if err := os.RemoveAll(rootfsOf(env.Dir)); err != nil {
					return fmt.Errorf("remove the rootfs: %w", err)
				}
			}
			return nil
		},
	}
}
