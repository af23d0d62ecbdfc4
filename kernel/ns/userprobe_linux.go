package ns

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/lab-edu/lab/kernel/mount"
	"github.com/lab-edu/lab/kernel/procfs"
	"github.com/lab-edu/lab/kernel/reexec"
)

// userProbeEntry runs inside a joined user namespace; see ProbeUser.
const userProbeEntry = "ns.userprobe"

func init() { reexec.Register(userProbeEntry, userProbeMain) }

// capSysAdmin is CAP_SYS_ADMIN's bit number (linux/capability.h).
const capSysAdmin = 21

// ProbeUser joins process pid's user namespace (as its root, through
// nsenter) and tries two things a container engine cares about: mounting
// a tmpfs in a new mount namespace, which CAP_SYS_ADMIN in the user
// namespace that owns the mount namespace allows, and setting the
// hostname of the host's UTS namespace, which needs CAP_SYS_ADMIN in the
// host's user namespace and must fail with EPERM.
func ProbeUser(ctx context.Context, pid int) (UserProbe, error) {
	var p UserProbe
	out, err := RunJoined(ctx, pid, []Kind{User}, userProbeEntry)
	if err != nil {
		return p, err
	}
	if err := json.Unmarshal(out, &p); err != nil {
		return p, fmt.Errorf("read user namespace probe output %q: %w", out, err)
	}
	return p, nil
}

func userProbeMain() {
	p, err := userProbe()
	if err != nil {
		fmt.Fprintln(os.Stderr, "ns.userprobe:", err)
		os.Exit(1)
	}
	_ = json.NewEncoder(os.Stdout).Encode(p)
	os.Exit(0)
}

func userProbe() (UserProbe, error) {
	var p UserProbe
	if initial, err := InInitialUserNamespace(); err != nil || initial {
		return p, errors.New("not in a user namespace of its own: refusing to probe")
	}
	st, err := procfs.ReadStatus(os.DirFS("/"), os.Getpid())
	if err != nil {
		return p, err
	}
	p.UID = os.Getuid()
	p.CapSysAdmin = st.CapEff&(1<<capSysAdmin) != 0
	p.MountErr = errString(mountInNewNamespace())
	herr := setSameHostname()
	p.HostnameErr = errString(herr)
	p.HostnameEPERM = errors.Is(herr, unix.EPERM)
	return p, nil
}

// mountInNewNamespace mounts a tmpfs on /tmp in a new mount namespace, on
// a thread that is then thrown away, so the mount dies with the probe.
func mountInNewNamespace() error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread leaves with the goroutine
		before, err := Self(Mount)
		if err != nil {
			done <- err
			return
		}
		if err := Unshare(Mount); err != nil {
			done <- err
			return
		}
		if after, err := Self(Mount); err != nil || after.Equal(before) {
			done <- errors.New("unshare left the thread in its old mount namespace")
			return
		}
		if err := mount.MakeRPrivate("/"); err != nil {
			done <- err
			return
		}
		done <- mount.Tmpfs("lab-probe", "/tmp", "size=1m")
	}()
	return <-done
}

// setSameHostname calls sethostname(2) with the current name.
func setSameHostname() error {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return err
	}
	return unix.Sethostname([]byte(unix.ByteSliceToString(u.Nodename[:])))
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
