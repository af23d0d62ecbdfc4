package minidockerlab

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/kernel/caps"
	"github.com/lab-edu/lab/kernel/cgroup"
	"github.com/lab-edu/lab/kernel/cnet"
	"github.com/lab-edu/lab/kernel/container"
	"github.com/lab-edu/lab/kernel/image"
	"github.com/lab-edu/lab/kernel/netdev"
	"github.com/lab-edu/lab/kernel/ns"
	"github.com/lab-edu/lab/kernel/procfs"
	"github.com/lab-edu/lab/steps"
)

// The guided part: the student runs a real container with `lab run` and
// looks at it with the course's tools. Its checks find the container's
// init by property: the process whose root mount is an overlay whose
// upper directory is lab-web's, under lab's state directory. lab's state
// only maps the name lab-web to its ID; everything else is read from the
// kernel.

// The container the guided steps use, and what it is run with.
const (
	webName   = "lab-web"
	webMemory = 64 << 20
	webImage  = "busybox"
)

// webDropped is the capability `lab run --cap-drop NET_RAW` removes.
var webDropped = caps.NetRaw

// webCommand is the shell form of the run, as the lessons show it.
var webCommand = "sudo lab run -d --name " + webName + " --memory 64m --cap-drop NET_RAW " + webImage + " httpd -f -p 80"

// stateRootOf is lab's state directory (LAB_ROOT): the workspace of every
// lab is <state>/work, so it is the parent of Host.Workspace().
func stateRootOf(h checker.Host) string { return filepath.Dir(h.Workspace()) }

// web is lab-web as the kernel shows it.
type web struct {
	ID  string
	PID int // its init, in the host's PID namespace
}

// findWeb finds lab-web's ID in lab's state and then its init among all
// processes: the one whose "/" is an overlay with lab-web's upper
// directory (the mount exists only while the container runs) and which is
// PID 1 of its PID namespace.
func findWeb(h checker.Host) (web, *checker.Result) {
	const name = "the container " + webName
	root := stateRootOf(h)
	c, err := container.Load(root, webName)
	if err != nil {
		r := checker.Mismatch(name, "a container named "+webName, "none in "+filepath.Join(root, "containers")+": "+err.Error(),
			"run it: "+webCommand)
		return web{}, &r
	}
	fsys := h.FS()
	pids, err := procfs.Pids(fsys)
	if err != nil {
		r := checker.Errored(name, err)
		return web{}, &r
	}
	upper := c.UpperDir()
	for _, pid := range pids {
		mounts, err := procfs.ReadMountInfo(fsys, strconv.Itoa(pid))
		if err != nil {
			continue
		}
		m, ok := procfs.Find(mounts, "/")
		if !ok || m.FSType != "overlay" {
			continue
		}
		if dir, _ := m.SuperOption("upperdir"); filepath.Clean(dir) != upper {
			continue
		}
		st, err := procfs.ReadStatus(fsys, pid)
		if err == nil && len(st.NSpid) > 1 && st.NSpid[len(st.NSpid)-1] == 1 {
			return web{ID: c.ID, PID: pid}, nil
		}
	}
	r := checker.Failed(name,
		fmt.Sprintf("no process runs on %s's overlay (upperdir %s): the container is not running", webName, upper),
		"start it again (sudo lab container start "+webName+"), or remove it and run it anew: sudo lab rm -f "+webName+"; "+webCommand)
	return web{}, &r
}

// Run: a detached lab-web with a memory limit and NET_RAW dropped. Its
// Setup, which `lab start minidocker` runs, also writes the assignment's
// skeleton and rootfs: moving on with `lab check` runs no other Setup.
var Run = steps.Step{
	ID:        ID + "/run",
	Title:     "Run a detached container with lab run",
	Setup:     runMaterials,
	Materials: runMaterials,
	Check:     checkRun,
	Solve: func(ctx context.Context, env *steps.Env) error {
		if err := importBusybox(ctx, env); err != nil {
			return err
		}
		if err := recordHost(env); err != nil {
			return err
		}
		return startWeb(ctx, env)
	},
	Cleanup: removeWeb,
}

// runMaterials imports the busybox image, records whether lab0 is there,
// and writes the assignment's skeleton and rootfs.
func runMaterials(ctx context.Context, env *steps.Env) error {
	if err := importBusybox(ctx, env); err != nil {
		return err
	}
	if err := recordHost(env); err != nil {
		return err
	}
	return prepare(ctx, env)
}

// importBusybox builds the busybox image offline into lab's image store,
// unless it is there, as `sudo lab image import-busybox` does.
func importBusybox(ctx context.Context, env *steps.Env) error {
	s, err := image.Open(filepath.Join(stateRootOf(env.Host), "images"))
	if err != nil {
		return err
	}
	if imgs, err := s.List(); err == nil {
		for _, img := range imgs {
			if slices.ContainsFunc(img.Names, func(n string) bool { return n == webImage || n == webImage+":latest" }) {
				return nil
			}
		}
	}
	fmt.Fprintln(env.Log, "importing the busybox image: lab image import-busybox")
	_, err = s.ImportBusybox(image.DefaultBusybox, webImage, image.Options{})
	return err
}

// startWeb is `lab run -d --name lab-web --memory 64m --cap-drop NET_RAW
// busybox httpd -f -p 80`, after removing a lab-web that is not running.
func startWeb(ctx context.Context, env *steps.Env) error {
	root := stateRootOf(env.Host)
	if c, err := container.Load(root, webName); err == nil {
		if c.IsRunning() {
			return nil
		}
		if err := c.Remove(ctx, true); err != nil {
			return err
		}
	}
	fmt.Fprintln(env.Log, webCommand)
	c, err := container.Create(ctx, root, container.Spec{
		Image: webImage, Cmd: []string{"httpd", "-f", "-p", "80"}, Name: webName,
		Memory: webMemory, CapDrop: []string{"NET_RAW"}, Detach: true,
	})
	if err != nil {
		return err
	}
	return c.Start(ctx)
}

// removeWeb is `lab rm -f lab-web` (nothing there is nothing to do).
// Then, if the lab0 bridge was not there before the lab (recordHost), it
// goes with its shared rules as after `lab reset`, unless another
// container uses it (and net.ipv4.ip_forward with it: see cnet.Teardown).
func removeWeb(ctx context.Context, env *steps.Env) error {
	c, err := container.Load(stateRootOf(env.Host), webName)
	if errors.Is(err, container.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := c.Remove(ctx, true); err != nil {
		return err
	}
	// The kernel removes the container's veth pair with its network
	// namespace, asynchronously, once its last process is gone: until
	// then the host end is still a port of lab0.
	veth := cnet.HostVethName(c.ID)
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, err := netdev.LinkByName("", veth); errors.Is(err, netdev.ErrNoLink) {
			break
		}
	}
	return restoreHost(ctx, env)
}

// hostFile records, in the workspace, what the host was like before
// lab-web's network changed it: whether the lab0 bridge existed. Only the
// cleanup reads it, to undo no more than the lab did.
func hostFile(env *steps.Env) string { return filepath.Join(env.Dir, "host.orig") }

// recordHost saves the host's state once (at `lab start`, or before Solve
// starts lab-web).
func recordHost(env *steps.Env) error {
	if _, err := os.Stat(hostFile(env)); err == nil {
		return nil
	}
	_, err := netdev.LinkByName("", cnet.Bridge)
	bridge := err == nil
	if err := os.MkdirAll(env.Dir, 0o755); err != nil {
		return err
	}
	record := fmt.Sprintf("bridge=%t\n", bridge)
	return os.WriteFile(hostFile(env), []byte(record), 0o644)
}

// restoreHost undoes what lab-web's network changed on the host, as
// recorded, and forgets the record.
func restoreHost(ctx context.Context, env *steps.Env) error {
	b, err := os.ReadFile(hostFile(env))
	if errors.Is(err, os.ErrNotExist) {
		return nil // nothing recorded: leave the host as it is
	}
	if err != nil {
		return err
	}
	record := map[string]bool{}
	for _, line := range strings.Fields(string(b)) {
		k, v, _ := strings.Cut(line, "=")
		record[k], _ = strconv.ParseBool(v)
	}
	if !record["bridge"] {
		if _, err := cnet.Teardown(ctx); err != nil {
			return err
		}
	}
	return os.Remove(hostFile(env))
}

// checkRun: lab-web's init is isolated in the five namespaces, runs on its
// overlay, is in a cgroup limited to 64 MiB and lacks CAP_NET_RAW.
func checkRun(ctx context.Context, h checker.Host) checker.Result {
	const name = "lab-web, running as asked"
	w, r := findWeb(h)
	if r != nil {
		return *r
	}
	fsys := h.FS()
	var same []string
	for _, k := range containerKinds {
		theirs, err1 := ns.Of(fsys, w.PID, k)
		ours, err2 := ns.Of(fsys, os.Getpid(), k)
		if err := errors.Join(err1, err2); err != nil {
			return checker.Errored(name, err)
		}
		if theirs.Equal(ours) {
			same = append(same, string(k))
		}
	}
	if len(same) > 0 {
		return checker.Mismatch(name, "its own uts, pid, mnt, ipc and net namespaces", "the host's "+strings.Join(same, ", "),
			"run it without --net host: "+webCommand)
	}
	limit, group, err := webMemoryLimit(fsys, w.PID)
	if err != nil {
		return checker.Errored(name, err)
	}
	if limit.Max || limit.Value != webMemory {
		return checker.Mismatch(name, fmt.Sprintf("a memory limit of %d bytes (--memory 64m)", webMemory), fmt.Sprintf("%s in %s", limit, group),
			"remove it and run it again with --memory 64m: sudo lab rm -f "+webName+"; "+webCommand)
	}
	sets, err := caps.ReadSets(fsys, w.PID)
	if err != nil {
		return checker.Errored(name, err)
	}
	if sets.Bounding.Has(webDropped) {
		return checker.Mismatch(name, "no "+webDropped.String()+" in its bounding set (--cap-drop NET_RAW)", "CapBnd "+sets.Bounding.Decode(),
			"remove it and run it again with --cap-drop NET_RAW: sudo lab rm -f "+webName+"; "+webCommand)
	}
	return checker.Passed(name,
		fmt.Sprintf("PID %d runs on the overlay of container %s, PID 1 in its own uts, pid, mnt, ipc and net namespaces", w.PID, w.ID[:12]),
		fmt.Sprintf("its memory group %s is limited to %d bytes; its bounding set lacks %s", group, webMemory, webDropped))
}

// webMemoryLimit reads the memory limit of the group pid is in.
func webMemoryLimit(fsys fs.FS, pid int) (cgroup.Limit, string, error) {
	hier, err := cgroup.Detect()
	if err != nil {
		return cgroup.Limit{}, "", err
	}
	entries, err := procfs.ReadCgroup(fsys, pid)
	if err != nil {
		return cgroup.Limit{}, "", err
	}
	for _, m := range hier.GroupsOf(entries) {
		if hier.Version == cgroup.V2 || m.Controller == cgroup.Memory {
			l, err := hier.ReadMemoryLimit(fsys, strings.TrimPrefix(m.Group, "/"))
			return l, m.Group, err
		}
	}
	return cgroup.Limit{}, "", fmt.Errorf("PID %d is in no memory cgroup", pid)
}
