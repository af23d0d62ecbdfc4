package overlay_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lab-edu/lab/kernel/kerneltest"
	"github.com/lab-edu/lab/kernel/overlay"
	"github.com/lab-edu/lab/kernel/procfs"
	"golang.org/x/sys/unix"
)

func TestMountAndDiff(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root, kerneltest.Filesystem("overlay"))
	d := t.TempDir()
	l := overlay.Layers{Lower: []string{d + "/l2", d + "/l1"}, Upper: d + "/upper", Work: d + "/work"}
	mkfile(t, d+"/l1/etc/motd", "from l1\n")
	mkfile(t, d+"/l1/etc/gone", "bye\n")
	mkfile(t, d+"/l1/conf/a", "a\n")
	mkfile(t, d+"/l1/conf/b", "b\n")
	mkfile(t, d+"/l2/version", "2\n")
	for _, dir := range []string{l.Upper, l.Work, d + "/merged"} {
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	merged := d + "/merged"
	if err := overlay.Mount(l, merged); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = overlay.Unmount(merged) })

	mounts, err := procfs.ReadMountInfo(os.DirFS("/"), "self")
	if err != nil {
		t.Fatal(err)
	}
	m, ok := procfs.Find(mounts, merged)
	if !ok || m.FSType != "overlay" {
		t.Fatalf("no overlay at %s in mountinfo", merged)
	}
	if got := overlay.ParseOptions(m.SuperOptions); !slices.Equal(got.Lower, l.Lower) || got.Upper != l.Upper {
		t.Fatalf("mountinfo layers = %+v, want %+v", got, l)
	}

	mkfile(t, merged+"/etc/motd", "changed\n") // copy-up
	mkfile(t, merged+"/new.txt", "new\n")      // added
	if err := os.Remove(merged + "/etc/gone"); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(merged + "/conf"); err != nil {
		t.Fatal(err)
	}
	mkfile(t, merged+"/conf/c", "c\n") // opaque dir

	if b, _ := os.ReadFile(d + "/l1/etc/motd"); string(b) != "from l1\n" {
		t.Errorf("lower changed: %q", b)
	}
	changes, err := overlay.Diff(l)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range changes {
		got = append(got, c.String())
	}
	want := []string{"C /conf (opaque)", "D /conf/a", "D /conf/b", "A /conf/c", "C /etc", "D /etc/gone", "C /etc/motd", "A /new.txt"}
	if !slices.Equal(got, want) {
		t.Errorf("Diff =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if err := overlay.Unmount(merged); err != nil {
		t.Fatal(err)
	}
	if err := overlay.Unmount(merged); err != nil {
		t.Errorf("second Unmount = %v, want nil (idempotent)", err)
	}
}

// TestParseOptionsNewMountAPI mounts with fsopen/fsconfig, giving each
// lower layer as its own "lowerdir+" (what util-linux >= 2.39 does), and
// checks ParseOptions reads what this kernel prints for it.
func TestParseOptionsNewMountAPI(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root, kerneltest.Filesystem("overlay"))
	d := t.TempDir()
	for _, dir := range []string{"l2", "l1", "upper", "work", "merged"} {
		if err := os.Mkdir(filepath.Join(d, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	fsfd, err := unix.Fsopen("overlay", unix.FSOPEN_CLOEXEC)
	if err != nil {
		t.Skipf("fsopen: %v (kernel without the new mount API)", err)
	}
	defer unix.Close(fsfd)
	for _, kv := range [][2]string{{"lowerdir+", d + "/l2"}, {"lowerdir+", d + "/l1"}, {"upperdir", d + "/upper"}, {"workdir", d + "/work"}} {
		if err := unix.FsconfigSetString(fsfd, kv[0], kv[1]); err != nil {
			t.Skipf("fsconfig %s: %v (kernel older than 6.8)", kv[0], err)
		}
	}
	if err := unix.FsconfigCreate(fsfd); errors.Is(err, unix.EINVAL) {
		// Before 6.8 the legacy option parser takes "lowerdir+" as an
		// unknown option and refuses the mount only here.
		t.Skipf("fsconfig create: %v (kernel older than 6.8: no lowerdir+)", err)
	} else if err != nil {
		t.Fatal(err)
	}
	mfd, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(mfd)
	if err := unix.MoveMount(mfd, "", unix.AT_FDCWD, d+"/merged", unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = overlay.Unmount(d + "/merged") })
	mounts, err := procfs.ReadMountInfo(os.DirFS("/"), "self")
	if err != nil {
		t.Fatal(err)
	}
	m, ok := procfs.Find(mounts, d+"/merged")
	if !ok {
		t.Fatal("not in mountinfo")
	}
	t.Logf("mountinfo options: %s", m.SuperOptions)
	got := overlay.ParseOptions(m.SuperOptions)
	if !slices.Equal(got.Lower, []string{d + "/l2", d + "/l1"}) || got.Upper != d+"/upper" || got.Work != d+"/work" {
		t.Fatalf("ParseOptions(%q) = %+v", m.SuperOptions, got)
	}
}
