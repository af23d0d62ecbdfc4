package container

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lab-edu/lab/kernel/kerneltest"
	"github.com/lab-edu/lab/kernel/ns"
	"github.com/lab-edu/lab/kernel/procfs"
)

// TestUserNamespaceInside: with --userns private the command is root of
// its own user namespace, mapped to UserNSHostID and up, sees the image's
// files as root's, may write them, and still cannot make a device node.
func TestUserNamespaceInside(t *testing.T) {
	root := newRoot(t)
	disk := strings.Replace(hostDisk(t), ":", " ", 1)
	script := strings.Join([]string{
		`echo "id=$(id -u):$(id -g)"`,
		`echo "map=$(cat /proc/self/uid_map | tr -s ' ' | sed 's/^ //')"`,
		`echo "busybox=$(stat -c %u:%g /bin/busybox)"`,
		`echo changed > /etc/motd && echo "etc=$(cat /etc/motd)"`,
		`echo "hostname=$(hostname)"`,
		`echo "pid1=$(cat /proc/1/comm)"`,
		`echo 1 2>/dev/null > /proc/sys/kernel/ns_last_pid && echo procsys=rw || echo procsys=ro`,
		`touch /sys/lab 2>/dev/null && echo sys=rw || echo sys=ro`,
		`echo "kcore=$(head -c 16 /proc/kcore 2>/dev/null | wc -c)"`,
		`mknod /tmp/disk b ` + disk + ` 2>/dev/null && echo mknod=ok || echo mknod=denied`,
		`echo "null=$(echo x > /dev/null && echo ok)"`,
	}, "; ")
	code, out, errOut := run(t, root, Spec{UserNS: true, Hostname: "lab-t-a-userns", Cmd: []string{"sh", "-c", script}})
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	want := map[string]string{
		"id": "0:0", "map": fmt.Sprintf("0 %d %d", UserNSHostID, UserNSSize), "busybox": "0:0", "etc": "changed",
		"hostname": "lab-t-a-userns", "pid1": "sh", "procsys": "ro", "sys": "ro", "kcore": "0",
		"mknod": "denied", "null": "ok",
	}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		k, v, _ := strings.Cut(line, "=")
		got[k] = strings.TrimSpace(v)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q (output:\n%s%s)", k, got[k], v, out, errOut)
		}
	}
}

// TestUserNamespaceOutside checks a running --userns private container
// from the host: its PID 1 runs as UserNSHostID, in a user namespace that
// is not the host's; what it writes is stored in the upper layer with the
// IDs it has inside (the layers are idmapped, not chowned); exec enters
// the user namespace too.
func TestUserNamespaceOutside(t *testing.T) {
	root := newRoot(t)
	c := start(t, root, Spec{UserNS: true, Name: "lab-t-a-userns-out", Cmd: []string{"sh", "-c", "echo hi > /root/made; exec sleep 1000"}})
	pid := c.State.Pid
	st, err := procfs.ReadStatus(host, pid)
	if err != nil {
		t.Fatal(err)
	}
	if st.Uid[0] != UserNSHostID || st.Gid[0] != UserNSHostID {
		t.Errorf("PID 1 runs as host uids %v, gids %v, want %d", st.Uid, st.Gid, UserNSHostID)
	}
	if same, err := ns.SameAsHost(host, pid, ns.User); err != nil || same {
		t.Errorf("the container's user namespace is the host's (%v)", err)
	}
	// The command wrote the file before it exec'd sleep, which Start
	// waited for only as far as the execve of sh: wait for sleep.
	made := filepath.Join(c.UpperDir(), "root", "made")
	for range 200 {
		if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); string(comm) == "sleep\n" {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	var fst unix.Stat_t
	if err := unix.Stat(made, &fst); err != nil || fst.Uid != 0 || fst.Gid != 0 {
		t.Errorf("%s on disk: owner %d:%d (%v), want 0:0: the container's root, unshifted", made, fst.Uid, fst.Gid, err)
	}
	if info := c.Inspect(); info.UserNS != "private" || len(info.UIDMap) != 1 || info.UIDMap[0].Outside != UserNSHostID {
		t.Errorf("inspect: userns %q, uid_map %+v", info.UserNS, info.UIDMap)
	}
	if static, _ := kerneltest.StaticBinary(); static {
		var out bytes.Buffer
		code, err := c.Exec(context.Background(), ExecSpec{Cmd: []string{"sh", "-c", "id -u; cat /root/made"}}, Stdio{Out: &out, Err: &out})
		if err != nil || code != 0 || out.String() != "0\nhi\n" {
			t.Errorf("exec: exit %d, %v: %q", code, err, out.String())
		}
	}
	if err := c.Remove(context.Background(), true); err != nil {
		t.Fatal(err)
	}
}
