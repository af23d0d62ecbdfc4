package probe_test

import (
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/lab-edu/lab/checker/checkertest"
	"github.com/lab-edu/lab/checker/probe"
)

func TestResolveIn(t *testing.T) {
	h := checkertest.New()
	const root = "/w/rootfs"
	h.AddFile(root+"/bin/busybox", "\x7fELF...", 0o755)
	h.AddSymlink(root+"/bin/sh", "/bin/busybox")    // absolute: resolved inside root
	h.AddSymlink(root+"/bin/ash", "busybox")        // relative
	h.AddSymlink(root+"/bin/up", "../../../bin/sh") // cannot climb above root
	h.AddSymlink(root+"/bin/bash", "/usr/bin/bash") // a host path: missing inside
	h.AddSymlink(root+"/bin/loop", "/bin/loop")
	h.AddFile("/bin/busybox", "host", 0o755) // the host's, which must not be reached
	tests := []struct {
		name, path, want, err string
	}{
		{"absolute link", "/bin/sh", "/bin/busybox", ""},
		{"relative link", "/bin/ash", "/bin/busybox", ""},
		{"dot-dot stops at root", "/bin/up", "/bin/busybox", ""},
		{"missing file", "/bin/zsh", "", "/bin/zsh does not exist inside the rootfs"},
		{"link to a host path", "/bin/bash", "", "/usr does not exist inside the rootfs (followed /bin/bash -> /usr/bin/bash)"},
		{"link loop", "/bin/loop", "", "too many levels of symbolic links"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := probe.ResolveIn(h.FS(), root, tt.path)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ResolveIn(%s) error = %v, want %q", tt.path, err, tt.err)
				}
				return
			}
			if err != nil || got.Path != tt.want {
				t.Fatalf("ResolveIn(%s) = %q, %v; want %q", tt.path, got.Path, err, tt.want)
			}
			if got.Info.Mode().Perm() != 0o755 {
				t.Fatalf("ResolveIn(%s) info mode %v, want the rootfs busybox's 0755", tt.path, got.Info.Mode())
			}
		})
	}
	if _, err := probe.ResolveIn(h.FS(), root, "/bin/zsh"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file error %v does not wrap fs.ErrNotExist", err)
	}
}

func TestInterpreterNotELF(t *testing.T) {
	h := checkertest.New()
	h.AddFile("/w/script", "#!/bin/sh\necho hi\n", 0o755)
	h.AddFile("/w/junk", "hello", 0o755)
	if _, err := probe.Interpreter(h.FS(), "w/script"); err == nil || !strings.Contains(err.Error(), "script") {
		t.Fatalf("Interpreter(script) error = %v, want it to say script", err)
	}
	if _, err := probe.Interpreter(h.FS(), "w/junk"); err == nil || !strings.Contains(err.Error(), "not an ELF") {
		t.Fatalf("Interpreter(junk) error = %v, want not an ELF", err)
	}
}
