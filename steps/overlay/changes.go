package overlaylab

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/kernel/overlay"
	"github.com/lab-edu/lab/steps"
)

// readFile reads a file of the host through the check's view.
func readFile(h checker.Host, path string) (string, error) {
	b, err := fs.ReadFile(h.FS(), fsPath(path))
	return string(b), err
}

func lstat(h checker.Host, path string) (fs.FileInfo, error) {
	return fs.Lstat(h.FS(), fsPath(path))
}

func ino(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Ino)
	}
	return 0
}

// CopyUp: write to a file that lives in a lower layer.
var CopyUp = steps.Step{
	ID:    "overlay/copy-up",
	Title: "Copy-up: change a file that comes from a lower layer",
	Setup: mounted,
	Check: checker.All("copy-up", checkStack(mainStack), checkCopyUp),
	Solve: func(ctx context.Context, env *steps.Env) error {
		return os.WriteFile(filepath.Join(env.Dir, "merged", "greeting"), []byte("hello from the container\n"), 0o644)
	},
}

// checkCopyUp proves that greeting was copied up by the kernel: the lower
// copy is unchanged, the upper holds a regular file with the new content,
// the merged view shows it, and the merged file keeps layer1's inode
// number (overlayfs records the origin of a copy-up and reports its inode,
// so a file written straight into upper/ does not look the same).
func checkCopyUp(ctx context.Context, h checker.Host) checker.Result {
	const name = "greeting copied up"
	dir := workOf(h)
	lower, merged, upper := filepath.Join(dir, "layer1/greeting"), filepath.Join(dir, "merged/greeting"), filepath.Join(dir, "upper/greeting")
	original := layerFiles["layer1"]["greeting"]
	hint := "echo 'hello from the container' > " + merged
	if got, err := readFile(h, lower); err != nil || got != original {
		return checker.Failed(name, fmt.Sprintf("%s was changed (%q): a lower layer must stay as the image shipped it", lower, got),
			"write through "+merged+" only; `lab reset overlay` starts the lab again")
	}
	got, err := readFile(h, merged)
	if err != nil {
		return checker.Failed(name, "cannot read "+merged+": "+err.Error(), hint)
	}
	if got == original {
		return checker.Failed(name, fmt.Sprintf("%s still shows layer1's %q: nothing was written through the merged view", merged, original), hint)
	}
	ufi, err := lstat(h, upper)
	if err != nil {
		return checker.Failed(name, "no "+upper+": the change is not in the upper dir", hint)
	}
	if !ufi.Mode().IsRegular() {
		return checker.Mismatch(name, upper+" a regular file (the copy)", upper+" is "+ufi.Mode().Type().String(), hint)
	}
	up, err := readFile(h, upper)
	if err != nil || up != got {
		return checker.Failed(name, fmt.Sprintf("%s holds %q but the merged view shows %q", upper, up, got), hint)
	}
	lfi, err1 := lstat(h, lower)
	mfi, err2 := lstat(h, merged)
	if err1 != nil || err2 != nil {
		return checker.Errored(name, errors.Join(err1, err2))
	}
	if ino(mfi) != ino(lfi) {
		return checker.Failed(name,
			fmt.Sprintf("%s has inode %d, not layer1's %d: the file was put into upper/ directly, not copied up by the kernel", merged, ino(mfi), ino(lfi)),
			"rm "+upper+"; then "+hint)
	}
	return checker.Passed(name,
		fmt.Sprintf("merged/greeting shows %q with layer1's inode %d; upper/greeting (inode %d) holds the copy; layer1/greeting still says %q", got, ino(lfi), ino(ufi), original))
}

// Whiteout: delete a file that comes from a lower layer.
var Whiteout = steps.Step{
	ID:    "overlay/whiteout",
	Title: "Delete a lower file and find its whiteout",
	Setup: mounted,
	Check: checker.All("whiteout", checkStack(mainStack), checkWhiteout),
	Solve: func(ctx context.Context, env *steps.Env) error {
		err := os.Remove(filepath.Join(env.Dir, "merged", "notes.txt"))
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	},
}

func checkWhiteout(ctx context.Context, h checker.Host) checker.Result {
	const name = "notes.txt whited out"
	dir := workOf(h)
	lower, merged, upper := filepath.Join(dir, "layer1/notes.txt"), filepath.Join(dir, "merged/notes.txt"), filepath.Join(dir, "upper/notes.txt")
	hint := "rm " + merged
	if got, err := readFile(h, lower); err != nil || got != layerFiles["layer1"]["notes.txt"] {
		return checker.Failed(name, lower+" is gone or changed: delete through the merged view, never in a lower layer",
			"`lab reset overlay` restores the layers")
	}
	if _, err := lstat(h, merged); err == nil {
		return checker.Failed(name, merged+" is still there", hint)
	}
	fi, err := lstat(h, upper)
	if err != nil {
		return checker.Failed(name, "no "+upper+": a deletion through the overlay leaves a whiteout there", hint)
	}
	if !overlay.IsWhiteout(fi) {
		return checker.Mismatch(name, upper+" a whiteout (character device 0, 0)", upper+" is "+describe(fi), "rm "+upper+"; then "+hint)
	}
	return checker.Passed(name, upper+" is a character device 0, 0: the whiteout that hides layer1/notes.txt")
}

// describe names a file's type for a message.
func describe(fi fs.FileInfo) string {
	switch t := fi.Mode().Type(); {
	case t == 0:
		return "a regular file"
	case t&fs.ModeCharDevice != 0:
		if major, minor, ok := overlay.DeviceNumbers(fi); ok {
			return fmt.Sprintf("a character device %d, %d", major, minor)
		}
		return "a character device"
	default:
		return t.String()
	}
}

// Opaque: replace a directory of a lower layer.
var Opaque = steps.Step{
	ID:    "overlay/opaque",
	Title: "Replace a lower directory: an opaque dir",
	Setup: mounted,
	Check: checker.All("opaque", checkStack(mainStack), checkOpaque),
	Solve: func(ctx context.Context, env *steps.Env) error {
		cfg := filepath.Join(env.Dir, "merged", "config")
		if err := os.RemoveAll(cfg); err != nil {
			return err
		}
		if err := os.Mkdir(cfg, 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(cfg, "c.conf"), []byte("c=2\n"), 0o644)
	},
}

func checkOpaque(ctx context.Context, h checker.Host) checker.Result {
	const name = "config is opaque"
	dir := workOf(h)
	lower, merged, upper := filepath.Join(dir, "layer1/config"), filepath.Join(dir, "merged/config"), filepath.Join(dir, "upper/config")
	hint := "rm -rf " + merged + " && mkdir " + merged + " && echo c=2 > " + merged + "/c.conf"
	lowerNames, err := fs.ReadDir(h.FS(), fsPath(lower))
	if err != nil || len(lowerNames) != 2 {
		return checker.Failed(name, lower+" lost its files: change the merged view, never a lower layer", "`lab reset overlay` restores the layers")
	}
	entries, err := fs.ReadDir(h.FS(), fsPath(merged))
	if err != nil {
		return checker.Failed(name, merged+" is not a directory: make it again after removing it", hint)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if slices.Contains(names, "a.conf") || slices.Contains(names, "b.conf") {
		return checker.Failed(name, fmt.Sprintf("%s still shows layer1's files %v: the directory was not removed and made again", merged, names), hint)
	}
	fi, err := lstat(h, upper)
	if err != nil || !fi.IsDir() {
		return checker.Failed(name, "no directory "+upper, hint)
	}
	opaque, err := overlay.IsOpaque(upper)
	if err != nil {
		return checker.Errored(name, err)
	}
	if !opaque {
		return checker.Failed(name, upper+" has no trusted.overlay.opaque=y xattr, so layer1's config/ would show through",
			"remove the directory through the merged view, then mkdir it there: "+hint)
	}
	return checker.Passed(name, fmt.Sprintf("%s has trusted.overlay.opaque=y; merged/config shows only %v", upper, names))
}
