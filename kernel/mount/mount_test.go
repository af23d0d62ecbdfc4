package mount_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/lab-edu/lab/kernel/mount"
)

func TestDeepest(t *testing.T) {
	in := []string{"/w", "/w/a", "/w/a/b", "/w/c", "/w/a"}
	got := mount.Deepest(in)
	// Deeper first; at equal depth the later (topmost) mount first.
	want := []string{"/w/a/b", "/w/a", "/w/c", "/w/a", "/w"}
	if !slices.Equal(got, want) {
		t.Fatalf("Deepest(%v) = %v, want %v", in, got, want)
	}
}

func TestUnder(t *testing.T) {
	tests := []struct {
		path, dir string
		want      bool
	}{
		{"/a/b", "/a", true},
		{"/a", "/a", true},
		{"/a", "/a/", true},
		{"/ab", "/a", false},
		{"/", "/a", false},
	}
	for _, tt := range tests {
		if got := mount.Under(tt.path, tt.dir); got != tt.want {
			t.Errorf("Under(%q, %q) = %v, want %v", tt.path, tt.dir, got, tt.want)
		}
	}
}

func TestErrorUnwraps(t *testing.T) {
	errBusy := errors.New("device or resource busy")
	err := error(&mount.Error{Op: "mount", Source: "tmpfs", Target: "/mnt", FSType: "tmpfs", Data: "size=1m", Err: errBusy})
	if !errors.Is(err, errBusy) {
		t.Fatal("errors.Is does not see the errno through *mount.Error")
	}
	if got, want := err.Error(), "mount -t tmpfs tmpfs /mnt (size=1m): device or resource busy"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
}

func TestPropagationString(t *testing.T) {
	for p, want := range map[mount.Propagation]string{mount.Private: "private", mount.Shared: "shared", mount.Slave: "slave", mount.Unbindable: "unbindable"} {
		if p.String() != want {
			t.Errorf("%d.String() = %q, want %q", p, p.String(), want)
		}
	}
}
