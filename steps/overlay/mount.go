package overlaylab

import (
	"context"
	"os"
	"path/filepath"

	"github.com/lab-edu/lab/kernel/overlay"
	"github.com/lab-edu/lab/steps"
)

// Mount: the first overlay, two lower layers under an upper.
var Mount = steps.Step{
	ID:        "overlay/mount",
	Title:     "Mount an overlay of two layers",
	Setup:     layers,
	Materials: layers,
	Check:     checkStack(mainStack),
	Solve: func(ctx context.Context, env *steps.Env) error {
		if err := writeLayers(env.Dir); err != nil {
			return err
		}
		return mountStack(env.Dir, mainStack)
	},
	Cleanup: func(ctx context.Context, env *steps.Env) error {
		return removeAll(env.Dir, "merged", "upper", "work", "layer2", "layer1")
	},
}

// mountStack (re)mounts the overlay of s over layer2 and layer1. What the
// upper dir holds survives a remount.
func mountStack(dir string, s stack) error {
	l := overlay.Layers{
		Lower: []string{filepath.Join(dir, "layer2"), filepath.Join(dir, "layer1")},
		Upper: filepath.Join(dir, s.upper),
		Work:  filepath.Join(dir, s.work),
	}
	merged := filepath.Join(dir, s.merged)
	for _, d := range []string{l.Upper, l.Work, merged} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if err := overlay.Unmount(merged); err != nil {
		return err
	}
	return overlay.Mount(l, merged)
}

// mounted is the Setup of the steps that work on the mounted overlay.
func mounted(ctx context.Context, env *steps.Env) error { return Mount.Solve(ctx, env) }
