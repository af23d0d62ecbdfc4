package cnet

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestWriteEtcBridge(t *testing.T) {
	rootfs := t.TempDir()
	ep := &Endpoint{Addr: netip.MustParsePrefix("10.88.0.7/16")}
	if err := WriteEtc(rootfs, "web", ep, ModeBridge); err != nil {
		t.Fatal(err)
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(rootfs, "etc", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if got := read("hostname"); got != "web\n" {
		t.Errorf("hostname: %q", got)
	}
	if hosts := read("hosts"); !strings.Contains(hosts, "127.0.0.1\tlocalhost\n") || !strings.Contains(hosts, "10.88.0.7\tweb\n") {
		t.Errorf("hosts:\n%s", hosts)
	}
	for _, line := range strings.Split(read("resolv.conf"), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "nameserver" {
			if a, err := netip.ParseAddr(f[1]); err != nil || a.IsLoopback() {
				t.Errorf("resolv.conf names %q", f[1])
			}
		}
	}
}

// A hostile image cannot make WriteEtc write outside the container's
// root: /etc as an absolute symbolic link is resolved inside the root, and
// /etc/hosts as a link, a FIFO or any non-regular file is replaced.
func TestWriteEtcStaysInside(t *testing.T) {
	outside := t.TempDir()
	victim := filepath.Join(outside, "victim")
	if err := os.WriteFile(victim, []byte("untouched"), 0o644); err != nil {
		t.Fatal(err)
	}

	// /etc -> /elsewhere (absolute): inside the root, /elsewhere.
	rootfs := t.TempDir()
	if err := os.Mkdir(filepath.Join(rootfs, "elsewhere"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/elsewhere", filepath.Join(rootfs, "etc")); err != nil {
		t.Fatal(err)
	}
	// /elsewhere/hosts -> the victim on the host; hostname a FIFO.
	if err := os.Symlink(victim, filepath.Join(rootfs, "elsewhere", "hosts")); err != nil {
		t.Fatal(err)
	}
	if err := mkfifo(filepath.Join(rootfs, "elsewhere", "hostname")); err != nil {
		t.Fatal(err)
	}
	if err := WriteEtc(rootfs, "c1", nil, ModeNone); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "untouched" {
		t.Fatalf("victim outside the root was written: %q", b)
	}
	for _, name := range []string{"hosts", "hostname", "resolv.conf"} {
		fi, err := os.Lstat(filepath.Join(rootfs, "elsewhere", name))
		if err != nil || !fi.Mode().IsRegular() {
			t.Errorf("/etc/%s: %v %v, want a regular file", name, fi, err)
		}
	}

	// /etc -> ../../.. (relative, climbing out): stops at the root.
	rootfs2 := t.TempDir()
	if err := os.Symlink("../../../../../..", filepath.Join(rootfs2, "etc")); err != nil {
		t.Fatal(err)
	}
	if err := WriteEtc(rootfs2, "c2", nil, ModeNone); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(rootfs2, "hostname")); err != nil {
		t.Errorf("/etc resolved to the root itself, so /hostname should be there: %v", err)
	}
}

func mkfifo(path string) error { return unix.Mkfifo(path, 0o644) }
