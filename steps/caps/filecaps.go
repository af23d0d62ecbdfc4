package capslab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/kernel/caps"
	"github.com/lab-edu/lab/steps"
)

// nobodyID is the unprivileged uid and gid probes run as.
const nobodyID = 65534

// binaryName is the copy of busybox the student gives a file capability.
const binaryName = "busybox"

// bindArgv is how probes run the student's binary: busybox nc listening
// on port 80.
func bindArgv(path string) []string { return []string{path, "nc", "-l", "-p", "80"} }

// bindWait bounds how long a probe waits for the server to listen.
const bindWait = 3 * time.Second

// FileCaps: a copy of busybox with cap_net_bind_service+ep, so uid 65534
// binds port 80.
var FileCaps = steps.Step{
	ID:      "caps/filecaps",
	Title:   "File capabilities: an unprivileged user binds port 80",
	Check:   checkFileCaps,
	Solve:   solveFileCaps,
	Cleanup: cleanupFileCaps,
}

func binaryPath(h checker.Host) string { return filepath.Join(h.Workspace(), Lab, binaryName) }

// nobodyCreds are uid and gid 65534 with no capabilities and the given
// bounding set (execve can grant at most that).
func nobodyCreds(bounding caps.Set) caps.Creds {
	ids := [3]int{nobodyID, nobodyID, nobodyID}
	return caps.Creds{Sets: caps.Sets{Bounding: bounding}, UID: ids, GID: ids}
}

func checkFileCaps(ctx context.Context, h checker.Host) checker.Result {
	const name = "a busybox copy with cap_net_bind_service+ep"
	path := binaryPath(h)
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return checker.Failed(name, path+" does not exist", "cp /bin/busybox "+path)
	} else if err != nil {
		return checker.Errored(name, err)
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o001 == 0 {
		return checker.Mismatch(name, "a regular file others may execute (mode 0755)", fi.Mode().String(),
			"chmod 755 "+path)
	}
	fc, ok, err := caps.ReadFileCaps(path)
	if err != nil {
		return checker.Errored(name, err)
	}
	if !ok {
		return checker.Failed(name, path+" has no security.capability attribute (getcap prints nothing)",
			"setcap cap_net_bind_service+ep "+path)
	}
	if !fc.Permitted.Has(caps.NetBindService) {
		return checker.Mismatch(name, "cap_net_bind_service in the file's permitted set", fc.String(),
			"setcap cap_net_bind_service+ep "+path)
	}
	if !fc.Effective {
		return checker.Mismatch(name, "cap_net_bind_service=ep", fc.String()+
			" (no effective bit: busybox never raises a capability itself, so it stays permitted but unused and bind(80) fails with EACCES)",
			"setcap cap_net_bind_service+ep "+path+" (the e matters)")
	}
	me, err := rootCreds(h.FS())
	if err != nil {
		return checker.Errored(name, err)
	}
	r, err := caps.TryBind(ctx, nobodyCreds(me.Bounding), 80, bindWait, bindArgv(path)...)
	if err != nil {
		return checker.Errored(name, err)
	}
	if !r.Bound {
		return checker.Failed(name,
			fmt.Sprintf("run as uid %d in a private network namespace, %s nc -l -p 80 did not listen on port 80: %s", nobodyID, path, orNothing(r.Output)),
			"check that every directory above "+path+" is searchable by others (chmod o+x) and that the file is busybox")
	}
	return checker.Passed(name,
		fmt.Sprintf("security.capability of %s: %s (revision %d)", path, fc, fc.Revision),
		fmt.Sprintf("uid %d ran it in a private network namespace and it listened on port 80", nobodyID))
}

func orNothing(s string) string {
	if s == "" {
		return "it printed nothing"
	}
	return s
}

// solveFileCaps is cp /bin/busybox {{work}}/busybox; setcap
// cap_net_bind_service+ep {{work}}/busybox.
func solveFileCaps(ctx context.Context, env *steps.Env) error {
	if err := os.MkdirAll(env.Dir, 0o755); err != nil {
		return err
	}
	if err := os.Chmod(env.Dir, 0o755); err != nil { // uid 65534 must reach the binary
		return err
	}
	path := filepath.Join(env.Dir, binaryName)
	if err := copyFile("/bin/busybox", path); err != nil {
		return err
	}
	fc := caps.FileCaps{Permitted: caps.Of(caps.NetBindService), Effective: true}
	if err := caps.WriteFileCaps(path, fc); err != nil {
		return err
	}
	fmt.Fprintf(env.Log, "%s: %s\n", path, fc)
	return nil
}

func cleanupFileCaps(ctx context.Context, env *steps.Env) error {
	path := filepath.Join(env.Dir, binaryName)
	if err := caps.RemoveFileCaps(path); err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	defer in.Close()
	// A fresh file: writing into one that has file capabilities would
	// clear them anyway, but never write through an old inode.
	_ = os.Remove(dst)
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		return fmt.Errorf("copy to %s: %w", dst, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy to %s: %w", dst, err)
	}
	return out.Close()
}
