package overlay_test

import (
	"strings"
	"testing"

	"github.com/lab-edu/lab/kernel/overlay"
)

// MountIDMapped refuses, before any syscall, a stack it cannot idmap.
func TestMountIDMappedRefusesBadStacks(t *testing.T) {
	for name, tt := range map[string]struct {
		layers overlay.Layers
		want   string
	}{
		"no lower":         {overlay.Layers{Upper: "/c/upper", Work: "/c/work"}, "lower dir"},
		"read-only stack":  {overlay.Layers{Lower: []string{"/l1", "/l2"}}, "side by side"},
		"apart":            {overlay.Layers{Lower: []string{"/l"}, Upper: "/a/upper", Work: "/b/work"}, "side by side"},
		"comma in a layer": {overlay.Layers{Lower: []string{"/l,x"}, Upper: "/c/upper", Work: "/c/work"}, "must not contain"},
	} {
		t.Run(name, func(t *testing.T) {
			fd, err := overlay.MountIDMapped(tt.layers, -1, 100000, 100000, t.TempDir())
			if err == nil || fd != -1 || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("MountIDMapped(%+v) = %d, %v; want an error about %q", tt.layers, fd, err, tt.want)
			}
		})
	}
}
