// Package minidockerlab is the minidocker lab, the finale of the course.
// First the student runs a real container with `lab run` and looks at it
// with `lab ns ls`, `lab cgroup show`, `lab caps show` and `lab net show`
// (guided.go); then they write a container runtime of their own, mini,
// from a Go skeleton with one TODO per course topic (namespaces, hostname,
// pivot_root, /proc, cgroups, capabilities, network).
//
// The checks grade the student's program black-box: they run the binary
// the student built, `{{work}}/mini/mini run {{work}}/rootfs /bin/sleep N`,
// find the process it starts by property (a descendant of mini that runs
// sleep), look at it from outside through /proc and the kernel/ packages,
// then kill it and remove whatever it left (see container.go). They never
// build anything and never read a file the student's program writes.
//
// The skeleton (skeleton/*.go.txt) and the reference solution of each
// topic (reference/*.go.txt) are embedded with a .txt suffix so that they
// are not part of the lab module: they form the student's own module, which
// needs only the standard library and so builds offline.
package minidockerlab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/kernel/cgroup"
	"github.com/lab-edu/lab/kernel/rootfs"
	"github.com/lab-edu/lab/steps"
)

// ID is the lab's ID and the name of its workspace directory.
const ID = "minidocker"

// Steps are the lab's steps, in order: the guided tour of a real
// container, then the assignment.
var Steps = append(append([]steps.Step{}, Guided...), Assignment...)

// Guided are the steps that run lab-web with `lab run` and look at it
// with the course's tools (guided.go).
var Guided = []steps.Step{Run, SeeNamespaces, SeeCgroup, SeeCaps, SeeNet}

// Assignment are the steps of the student's own runtime: one per TODO of
// the skeleton.
var Assignment = []steps.Step{Namespaces, Hostname, PivotRoot, Proc, Cgroup, Caps, Network}

// Names of the lab's things in the workspace and the kernel.
const (
	programDir  = "mini"      // the student's Go module: {{work}}/mini
	programName = "mini"      // the binary they build in it
	rootfsName  = "rootfs"    // the busybox root file system: {{work}}/rootfs
	groupPrefix = "lab-mini-" // cgroups mini creates: lab-mini-<PID of mini run>
)

func programDirOf(work string) string { return filepath.Join(work, programDir) }
func binaryOf(work string) string     { return filepath.Join(work, programDir, programName) }
func rootfsOf(work string) string     { return filepath.Join(work, rootfsName) }

// workOf is this lab's workspace as a check sees it.
func workOf(h checker.Host) string { return filepath.Join(h.Workspace(), ID) }

// Reset stops every container a run of mini left and removes their cgroups:
// what every assignment step's Cleanup does, for after a crash. (The
// steps never delete the student's program; `lab reset` deletes the whole
// workspace afterwards.)
func Reset(ctx context.Context, env *steps.Env) error { return teardown(env.Dir) }

// teardown kills every process that uses the rootfs (a container pivoted or
// chrooted into it, found by property by rootfs.Vacate, which also
// unmounts anything a buggy mini mounted below it in the host's mount
// namespace), then every process left in a lab-mini-* cgroup, and removes
// those groups. Idempotent: nothing there is nothing to do.
func teardown(work string) error {
	var errs []error
	if err := vacate(work); err != nil {
		errs = append(errs, err)
	}
	if err := removeGroups(""); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// removeGroups kills the processes of every cgroup whose name starts with
// groupPrefix (only the one named exactly, when name is not empty), and
// removes the groups.
func removeGroups(name string) error {
	h, err := cgroup.Detect()
	if err != nil {
		return nil // no cgroups: nothing of ours can be there
	}
	host := os.DirFS("/")
	controllers := []string{cgroup.Memory, cgroup.Pids}
	if h.Version == cgroup.V2 {
		controllers = []string{""}
	}
	var errs []error
	for _, c := range controllers {
		for _, g := range h.Find(host, c, groupPrefix, 1) {
			if name != "" && g != name {
				continue
			}
			if err := h.KillAll(g, c, nil); err != nil {
				errs = append(errs, err)
			}
			if err := h.Delete(g); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// isLabGroup reports whether a cgroup path is one of mini's.
func isLabGroup(group string) bool {
	return strings.HasPrefix(filepath.Base(group), groupPrefix)
}

// prepare makes the starting state every step needs: the busybox rootfs
// and the skeleton in {{work}}/mini. Files already there are the
// student's and are never overwritten.
func prepare(ctx context.Context, env *steps.Env) error {
	dir := rootfsOf(env.Dir)
	if _, err := os.Stat(filepath.Join(dir, "bin", "busybox")); err != nil {
		fmt.Fprintf(env.Log, "building a busybox rootfs in %s\n", dir)
		if err := rootfs.BuildBusybox(ctx, dir); err != nil {
			return err
		}
	}
	wrote, err := writeSkeleton(programDirOf(env.Dir))
	if err != nil {
		return err
	}
	if len(wrote) > 0 {
		fmt.Fprintf(env.Log, "wrote the skeleton of mini in %s: %s\n", programDirOf(env.Dir), strings.Join(wrote, " "))
	}
	return nil
}

// vacate kills the processes rooted in the rootfs and unmounts what is
// mounted below it in lab's mount namespace.
func vacate(work string) error { return rootfs.Vacate(rootfsOf(work)) }
