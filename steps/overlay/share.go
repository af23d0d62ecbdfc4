package overlaylab

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/steps"
)

var containers = []stack{
	{merged: "ctr1/merged", upper: "ctr1/upper", work: "ctr1/work"},
	{merged: "ctr2/merged", upper: "ctr2/upper", work: "ctr2/work"},
}

// Share: two containers on the same image layers.
var Share = steps.Step{
	ID:        "overlay/share",
	Title:     "Two containers share the same layers",
	Setup:     layers,
	Materials: layers,
	Check: checker.All("shared layers",
		checkStack(containers[0]), checkStack(containers[1]), checkSeparateUppers),
	Solve: func(ctx context.Context, env *steps.Env) error {
		if err := writeLayers(env.Dir); err != nil {
			return err
		}
		for _, c := range containers {
			if err := mountStack(env.Dir, c); err != nil {
				return err
			}
		}
		return nil
	},
	Cleanup: func(ctx context.Context, env *steps.Env) error { return removeAll(env.Dir, "ctr1", "ctr2") },
}

// checkSeparateUppers: the lowers of both mounts are the very same
// directories (checkStack compared them by device and inode), and the
// uppers are two different directories.
func checkSeparateUppers(ctx context.Context, h checker.Host) checker.Result {
	const name = "separate uppers"
	dir := workOf(h)
	var ids []string
	for _, n := range []string{"layer2", "layer1", "ctr1/upper", "ctr2/upper"} {
		id, err := fileID(h, filepath.Join(dir, n))
		if err != nil {
			return checker.Errored(name, err)
		}
		ids = append(ids, id)
	}
	if ids[2] == ids[3] {
		return checker.Failed(name, "ctr1/upper and ctr2/upper are the same directory (inode "+ids[2]+")",
			"each container needs its own upper dir: mkdir "+filepath.Join(dir, "ctr2/upper")+" as a real directory")
	}
	return checker.Passed(name, fmt.Sprintf("both mounts use layer2 %s and layer1 %s; uppers %s and %s differ", ids[0], ids[1], ids[2], ids[3]))
}
