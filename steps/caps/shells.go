package capslab

import (
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/lab-edu/lab/kernel/caps"
	"github.com/lab-edu/lab/kernel/procfs"
)

// shellNames are the command names (/proc/PID/comm) of shells. A check
// looks at these processes only: daemons started by systemd often run
// with a reduced bounding set and must not pass a step for the student.
var shellNames = []string{"bash", "sh", "dash", "zsh", "ash", "ksh", "mksh", "fish"}

// shell is a shell process and its credentials.
type shell struct {
	Pid   int
	Comm  string
	Creds caps.Creds
}

func (s shell) String() string { return fmt.Sprintf("%s (pid %d)", s.Comm, s.Pid) }

// findShells lists the shells in the checker's user namespace (capability
// sets mean something only relative to the user namespace that owns
// them; a shell in another one may be "root" there and nobody here) and
// with the checker's root directory (a shell in a container or a chroot
// belongs to another lab).
func findShells(fsys fs.FS) ([]shell, error) {
	pids, err := procfs.Pids(fsys)
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	self := os.Getpid()
	myUserNS, _ := procfs.NsLink(fsys, self, "user")
	myRoot, _ := procfs.Root(fsys, self)
	var out []shell
	for _, pid := range pids {
		if pid == self {
			continue
		}
		comm, err := procfs.Comm(fsys, pid)
		if err != nil || !slices.Contains(shellNames, comm) {
			continue
		}
		if ns, _ := procfs.NsLink(fsys, pid, "user"); ns != myUserNS {
			continue
		}
		if root, err := procfs.Root(fsys, pid); err == nil && myRoot != "" && root != myRoot {
			continue // a container's or a chroot's shell, not one on this host
		}
		st, err := procfs.ReadStatus(fsys, pid)
		if err != nil {
			continue // it ended meanwhile
		}
		if strings.HasPrefix(st.State, "Z") || strings.HasPrefix(st.State, "X") {
			continue // dead, waiting to be reaped: it keeps its credentials but runs nothing
		}
		out = append(out, shell{Pid: pid, Comm: comm, Creds: caps.CredsFromStatus(st)})
	}
	return out, nil
}

// describe lists a few shells for a failure message.
func describe(shells []shell, what func(shell) string) string {
	var parts []string
	for i, s := range shells {
		if i == 4 {
			parts = append(parts, fmt.Sprintf("and %d more", len(shells)-i))
			break
		}
		parts = append(parts, s.String()+" "+what(s))
	}
	if len(parts) == 0 {
		return "no shell process at all"
	}
	return strings.Join(parts, "; ")
}

// marker is the environment variable every process of this lab carries,
// so Cleanup and Reset can find them after a crash. The checks never use
// it: a shell started without it passes the same.
const marker = "LAB_CAPS"

// startShell starts, detached, the shell the lab text asks for: a bash
// with credentials c, marked LAB_CAPS=tag, waiting forever. It waits until
// the shell runs (its comm is bash), so a check right after sees it.
func startShell(c caps.Creds, tag string) error {
	cmd := caps.Command(c, "/bin/bash", "-c", "sleep infinity & wait")
	cmd.Env = append(os.Environ(), marker+"="+tag)
	caps.Detach(cmd) // stdio stays nil: /dev/null
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s shell: %w", tag, err)
	}
	go func() { _ = cmd.Wait() }() // reap it if we are still around when it dies
	fsys := os.DirFS("/")
	for range 200 {
		if comm, _ := procfs.Comm(fsys, cmd.Process.Pid); comm == "bash" {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("start %s shell: pid %d did not become bash", tag, cmd.Process.Pid)
}

// killMarked kills every process whose environment has LAB_CAPS=tag (any
// value when tag is empty) and waits until they are gone.
func killMarked(fsys fs.FS, tag string) error {
	want := marker + "=" + tag
	match := func(pid int) bool {
		env, _ := procfs.Environ(fsys, pid) // a zombie's is empty
		return slices.ContainsFunc(env, func(kv string) bool {
			return kv == want || (tag == "" && strings.HasPrefix(kv, marker+"="))
		})
	}
	pids, err := procfs.Pids(fsys)
	if err != nil {
		return err
	}
	var killed []int
	for _, pid := range pids {
		if pid != os.Getpid() && match(pid) {
			if p, err := os.FindProcess(pid); err == nil && p.Kill() == nil {
				killed = append(killed, pid)
			}
		}
	}
	deadline := time.Now().Add(3 * time.Second)
	for _, pid := range killed {
		for match(pid) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
	}
	return nil
}

// rootCreds are the lab process's own credentials: root with whatever
// this machine's bounding set allows.
func rootCreds(fsys fs.FS) (caps.Creds, error) {
	return caps.ReadCreds(fsys, os.Getpid())
}
