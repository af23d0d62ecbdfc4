package nslab

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/kernel/ns"
	"github.com/lab-edu/lab/kernel/procfs"
	"github.com/lab-edu/lab/steps"
)

const userLab = "user"

// nobody is the unprivileged uid (and gid) the reference solution maps to
// root inside.
const nobody = 65534

// UserSteps are the user lab's steps, in order.
var UserSteps = []steps.Step{UserMap, UserCaps}

// UserMap: root inside, nobody outside.
var UserMap = steps.Step{
	ID:      "user/map",
	Title:   "Root inside a user namespace, unprivileged outside",
	Check:   checkUserMap,
	Solve:   solveUserMap,
	Cleanup: cleanupUser,
}

// userNS is a user namespace of the lab, with its first process.
type userNS struct {
	ID   ns.ID
	Proc proc
	UID  []procfs.IDMap
	GID  []procfs.IDMap
	// Uid is the process's real uid as the host sees it.
	Uid int
}

func readMap(fsys fs.FS, pid int, file string) ([]procfs.IDMap, error) {
	f, err := fsys.Open(fmt.Sprintf("proc/%d/%s", pid, file))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return procfs.ParseIDMap(f)
}

func formatMap(m []procfs.IDMap) string {
	if len(m) == 0 {
		return "(empty)"
	}
	s := make([]string, len(m))
	for i, l := range m {
		s[i] = fmt.Sprintf("%d %d %d", l.Inside, l.Outside, l.Count)
	}
	return strings.Join(s, "; ")
}

// toInside maps an outside id through m; ok is false when unmapped.
func toInside(m []procfs.IDMap, outside uint64) (uint64, bool) {
	for _, l := range m {
		if outside >= l.Outside && outside < l.Outside+l.Count {
			return l.Inside + (outside - l.Outside), true
		}
	}
	return 0, false
}

// rootOutside returns what uid 0 inside is outside.
func rootOutside(m []procfs.IDMap) (uint64, bool) {
	for _, l := range m {
		if l.Inside == 0 && l.Count > 0 {
			return l.Outside, true
		}
	}
	return 0, false
}

// userNamespaces lists the lab's user namespaces: those of processes
// started from the workspace, other than the host's.
func userNamespaces(fsys fs.FS, dir string) []userNS {
	ids, by := isolated(fsys, dir, ns.User)
	var out []userNS
	for _, id := range ids {
		p := by[id][0]
		u := userNS{ID: id, Proc: p}
		u.UID, _ = readMap(fsys, p.PID, "uid_map")
		u.GID, _ = readMap(fsys, p.PID, "gid_map")
		if st, err := procfs.ReadStatus(fsys, p.PID); err == nil {
			u.Uid = st.Uid[0]
		}
		out = append(out, u)
	}
	return out
}

// judgeMap says what is wrong with u's maps, or nothing.
func judgeMap(u userNS) (reason, hint string) {
	who := fmt.Sprintf("%s in %s", u.Proc, u.ID)
	switch {
	case len(u.UID) == 0:
		return who + " has no uid_map: nobody wrote /proc/" + fmt.Sprint(u.Proc.PID) + "/uid_map, so no uid is mapped and it runs as the overflow uid 65534 with no root inside",
			"start it with unshare --user --map-root-user, or write \"0 UID 1\" to /proc/PID/uid_map from outside"
	case len(u.GID) == 0:
		return who + " has a uid_map but no gid_map: /proc/" + fmt.Sprint(u.Proc.PID) + "/gid_map is empty",
			"unshare --map-root-user writes both (and \"deny\" to setgroups first, which an unprivileged gid_map needs)"
	}
	root, ok := rootOutside(u.UID)
	if !ok {
		return fmt.Sprintf("the uid_map of %s (%s) maps no uid to 0 inside", who, formatMap(u.UID)),
			"map root: --map-root-user writes \"0 YOUR-UID 1\""
	}
	if root == 0 {
		return fmt.Sprintf("the uid_map of %s (%s) maps uid 0 inside to uid 0 outside: it is root on the host too, not unprivileged", who, formatMap(u.UID)),
			"create the namespace as an unprivileged user: setpriv --reuid=65534 --regid=65534 --clear-groups unshare --user --map-root-user ..."
	}
	inside, ok := toInside(u.UID, uint64(u.Uid))
	if !ok || inside != 0 {
		return fmt.Sprintf("%s runs as uid %d on the host, which is not uid 0 in its namespace (uid_map: %s)", who, u.Uid, formatMap(u.UID)),
			"run the shell as the namespace's root: unshare --map-root-user does it"
	}
	return "", ""
}

func checkUserMap(ctx context.Context, h checker.Host) checker.Result {
	const name = "uid 0 inside a user namespace, an unprivileged uid outside"
	_, r := findUserNS(h)
	r.Name = name
	return r
}

// findUserNS returns the first lab user namespace whose maps are right,
// as a passing result, or the failure of the first one.
func findUserNS(h checker.Host) (userNS, checker.Result) {
	dir := workDir(h, userLab)
	all := userNamespaces(h.FS(), dir)
	if len(all) == 0 {
		return userNS{}, checker.Failed("", "no process started from "+dir+" is in a user namespace of its own",
			"cd "+dir+" && setpriv --reuid=65534 --regid=65534 --clear-groups unshare --user --map-root-user bash")
	}
	var first checker.Result
	for i, u := range all {
		reason, hint := judgeMap(u)
		if reason == "" {
			root, _ := rootOutside(u.UID)
			return u, checker.Passed("",
				fmt.Sprintf("%s is uid 0 in %s and uid %d on the host", u.Proc, u.ID, root),
				"uid_map: "+formatMap(u.UID), "gid_map: "+formatMap(u.GID))
		}
		if i == 0 {
			first = checker.Failed("", reason, hint)
		}
	}
	return userNS{}, first
}

// solveUserMap starts a holder in a new user namespace, with uid and gid 0
// inside mapped to nobody outside, and running as that root.
func solveUserMap(ctx context.Context, env *steps.Env) error {
	if u, r := findUserNS(env.Host); r.OK() && u.Proc.PID != 0 {
		return nil
	}
	one := []ns.IDMap{{Inside: 0, Outside: nobody, Count: 1}}
	cmd := ns.HoldCommand(ns.Spec{New: []ns.Kind{ns.User}, UIDMap: one, GIDMap: one, AsRootInside: true}, ns.HoldOptions{})
	cmd.Dir = env.Dir
	pid, err := ns.StartDetached(cmd)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Log, "started PID %d as root of a new user namespace (uid %d outside)\n", pid, nobody)
	return waitFor(ctx, func() bool { _, r := findUserNS(env.Host); return r.OK() })
}

func cleanupUser(ctx context.Context, env *steps.Env) error {
	return errors.Join(ns.UnbindAll(env.Dir), killMarked(env.Dir, ns.User))
}

// UserCaps: what root of a user namespace may do, and may not.
var UserCaps = steps.Step{
	ID:      "user/caps",
	Title:   "Capabilities inside the user namespace, none outside",
	Setup:   solveUserMap,
	Check:   checkUserCaps,
	Solve:   solveUserCaps,
	Cleanup: cleanupUser,
}

// probeUser is the behavioural probe; tests may swap it.
var probeUser = ns.ProbeUser

// mountOwner returns the user namespace owning pid's mount namespace.
var mountOwner = func(pid int) (ns.ID, error) { return ns.Owner(pid, ns.Mount) }

func checkUserCaps(ctx context.Context, h checker.Host) checker.Result {
	const name = "root of the user namespace mounts in its own mount namespace, and cannot touch the host"
	u, r := findUserNS(h)
	if !r.OK() {
		r.Name = name
		return r
	}
	fsys, dir := h.FS(), workDir(h, userLab)
	hostMounts, err := procfs.ReadMountInfo(fsys, "self")
	if err != nil {
		return checker.Errored(name, err)
	}
	var owned []proc
	for _, p := range marked(fsys, dir) {
		if owner, err := mountOwner(p.PID); err == nil && owner.Equal(u.ID) {
			owned = append(owned, p)
		}
	}
	if len(owned) == 0 {
		return checker.Failed(name,
			fmt.Sprintf("no process started from %s is in a mount namespace owned by %s", dir, u.ID),
			fmt.Sprintf("join the user namespace and make a mount namespace in it: nsenter --target %d --user unshare --mount sh", u.Proc.PID))
	}
	var found string
	for _, p := range owned {
		mounts, err := procfs.ReadMountInfo(fsys, fmt.Sprint(p.PID))
		if err != nil {
			continue
		}
		for _, m := range mounts {
			if m.FSType != "tmpfs" {
				continue
			}
			if hm, ok := procfs.Find(hostMounts, m.Point); ok && hm.FSType == "tmpfs" {
				continue
			}
			found = fmt.Sprintf("%s sees a tmpfs on %s that the host does not have", p, m.Point)
			break
		}
		if found != "" {
			break
		}
	}
	if found == "" {
		return checker.Failed(name,
			fmt.Sprintf("%s is in a mount namespace owned by %s, but it has no tmpfs of its own", owned[0], u.ID),
			"in that shell: mount -t tmpfs lab-tmpfs /mnt")
	}
	p, err := probeUser(ctx, u.Proc.PID)
	if err != nil {
		return checker.Errored(name, err)
	}
	ev := []string{found}
	switch {
	case p.UID != 0:
		return checker.Failed(name, fmt.Sprintf("joined as root of %s, the probe is uid %d there", u.ID, p.UID), "check the uid_map")
	case !p.CapSysAdmin:
		return checker.Failed(name, "root of "+u.ID.String()+" has no CAP_SYS_ADMIN in its effective set", "start the namespace with unshare --user --map-root-user")
	case p.MountErr != "":
		return checker.Failed(name, "root of "+u.ID.String()+" could not mount a tmpfs in a new mount namespace: "+p.MountErr, "")
	case !p.HostnameEPERM:
		return checker.Failed(name, "root of "+u.ID.String()+" was not refused the host's sethostname (got: "+orOK(p.HostnameErr)+"): its capabilities reach the host",
			"create the namespace as an unprivileged user, not as root")
	}
	ev = append(ev,
		"probe as root of "+u.ID.String()+": CAP_SYS_ADMIN in its namespace, mount -t tmpfs in a new mount namespace worked",
		"probe: sethostname on the host's UTS namespace was refused: "+p.HostnameErr)
	return checker.Passed(name, ev...)
}

func orOK(s string) string {
	if s == "" {
		return "success"
	}
	return s
}

// solveUserCaps joins the lab's user namespace (through nsenter, as Go
// cannot) and starts a holder there in a new mount namespace with a tmpfs
// on /mnt.
func solveUserCaps(ctx context.Context, env *steps.Env) error {
	if err := solveUserMap(ctx, env); err != nil {
		return err
	}
	u, r := findUserNS(env.Host)
	if !r.OK() {
		return errors.New(r.Reason)
	}
	cmd, done, err := ns.JoinCommand(ctx, u.Proc.PID, []ns.Kind{ns.User}, ns.HoldEntry,
		ns.HoldOptions{Tmpfs: "/mnt", InNewMount: true}.Args()...)
	if err != nil {
		return err
	}
	defer done()
	cmd.Dir = env.Dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("start a holder in %s: %w: %s", u.ID, err, strings.TrimSpace(string(out)))
	}
	return waitFor(ctx, func() bool { return checkUserCaps(ctx, env.Host).OK() })
}
