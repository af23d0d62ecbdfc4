package container

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/lab-edu/lab/kernel/cgroup"
	"github.com/lab-edu/lab/kernel/cnet"
)

// Prune removes every container that is not running, like docker
// container prune, and whatever a crash left: containers marked running
// whose supervisor is gone (their processes are killed, their cgroup and
// network released), half-created state directories, lab-ctr-* cgroups and
// network leases of containers that no longer exist. With all, running
// containers are killed and removed too (lab container prune --all, lab
// reset --all). It returns the names of the containers removed.
func Prune(ctx context.Context, root string, all bool) ([]string, error) {
	list, err := ids(root)
	if err != nil {
		return nil, err
	}
	var removed []string
	var errs []error
	for _, id := range list {
		c, err := loadDir(root, id)
		if err != nil {
			// A crash between mkdir and the first write of config.json.
			c = &Container{ID: id, Root: root, Spec: Spec{Net: NetBridge}}
			errs = append(errs, c.teardown(ctx), os.RemoveAll(c.Dir()))
			removed = append(removed, id[:12])
			continue
		}
		if c.IsRunning() && !all {
			continue
		}
		if err := c.Remove(ctx, true); err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", c.Name, err))
			continue
		}
		removed = append(removed, c.Name)
	}
	errs = append(errs, pruneCgroups(root), cnet.Prune(ctx, root, func(id string) bool {
		c, err := loadDir(root, id)
		return err == nil && c.IsRunning()
	}))
	return removed, errors.Join(errs...)
}

// pruneCgroups deletes empty lab-ctr-<id12> cgroups that no container of
// root owns, older than orphanAge: what a crash between creating the group
// and starting the container left, or a state directory removed by hand.
// A group with processes is left alone: it may be a live container of
// another state directory (LAB_ROOT); one of root's own is handled through
// its state directory above. A group younger than orphanAge may belong to
// a container being started.
func pruneCgroups(root string) error {
	h, err := hierarchy()
	if err != nil {
		return err
	}
	known := map[string]bool{}
	list, _ := ids(root)
	for _, id := range list {
		known[CgroupPrefix+id[:12]] = true
	}
	ctl := cgroup.Pids
	if h.Version == cgroup.V2 {
		ctl = ""
	}
	var errs []error
	for _, g := range h.Find(host, ctl, CgroupPrefix, 1) {
		name := strings.Trim(g, "/")
		if known[name] || strings.Contains(name, "/") {
			continue
		}
		if fi, err := os.Stat(h.Dir(ctl, name)); err != nil || time.Since(fi.ModTime()) < orphanAge {
			continue
		}
		if pids, err := h.ReadProcs(host, ctl, name); err != nil || len(pids) > 0 {
			continue
		}
		c := &Container{ID: strings.TrimPrefix(name, CgroupPrefix) + strings.Repeat("0", 52), Root: root}
		errs = append(errs, c.deleteCgroup())
	}
	return errors.Join(errs...)
}

// orphanAge is how old an empty cgroup without a container must be
// before Prune removes it.
const orphanAge = 10 * time.Second
