package overlaylab

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/kernel/overlay"
	"github.com/lab-edu/lab/kernel/procfs"
)

// stack is where one overlay of the lab lives, relative to the workspace.
type stack struct {
	merged, upper, work string // "merged", "upper", "work" or "ctr1/merged", ...
}

var mainStack = stack{merged: "merged", upper: "upper", work: "work"}

// mountCommand is the command that mounts s, for hints.
func (s stack) mountCommand(dir string) string {
	return fmt.Sprintf("mount -t overlay overlay -o lowerdir=%[1]s/layer2:%[1]s/layer1,upperdir=%[1]s/%[2]s,workdir=%[1]s/%[3]s %[1]s/%[4]s",
		dir, s.upper, s.work, s.merged)
}

// fsPath turns an absolute path into a name for the host's fs.FS.
func fsPath(p string) string {
	p = strings.TrimPrefix(filepath.Clean(p), "/")
	if p == "" {
		return "."
	}
	return p
}

// fileID is the identity of a file: the device and inode numbers stat(2)
// gives. Two paths are the same directory exactly when their IDs match,
// whatever the path spelling (symlinks, "..", bind mounts).
func fileID(h checker.Host, path string) (string, error) {
	fi, err := fs.Stat(h.FS(), fsPath(path))
	if err != nil {
		return "", err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "", fmt.Errorf("stat %s: no inode number", path)
	}
	return fmt.Sprintf("%d:%d", st.Dev, st.Ino), nil
}

// checkStack verifies the overlay of s in mountinfo: mounted at
// WORK/s.merged, with lowerdir exactly layer2 then layer1 and the upper
// and work dirs of s, all compared by device and inode number.
func checkStack(s stack) checker.Check {
	name := "overlay at " + s.merged
	return func(ctx context.Context, h checker.Host) checker.Result {
		dir := workOf(h)
		point := filepath.Join(dir, s.merged)
		hint := "mkdir -p " + filepath.Join(dir, s.upper) + " " + filepath.Join(dir, s.work) + " " + point + "; " + s.mountCommand(dir)
		mounts, err := procfs.ReadMountInfo(h.FS(), "self")
		if err != nil {
			return checker.Errored(name, err)
		}
		m, ok := procfs.Find(mounts, point)
		if !ok {
			return checker.Failed(name, point+" is not a mount point", hint)
		}
		if m.FSType != "overlay" {
			return checker.Mismatch(name, "an overlay at "+point, m.FSType+" ("+m.Source+")", "umount "+point+", then "+s.mountCommand(dir))
		}
		l := overlay.ParseOptions(m.SuperOptions)
		// The kernel shows lowerdir as it was given: resolve relative
		// paths against the workspace, where the lesson works.
		abs := func(p string) string {
			if p != "" && !filepath.IsAbs(p) {
				return filepath.Join(dir, p)
			}
			return p
		}
		want := map[string]string{} // file ID -> what it is, for the messages
		for _, n := range []string{"layer2", "layer1", s.upper, s.work} {
			id, err := fileID(h, filepath.Join(dir, n))
			if err != nil {
				return checker.Failed(name, "cannot stat "+filepath.Join(dir, n)+": "+err.Error(), hint)
			}
			want[id] = filepath.Join(dir, n)
		}
		label := func(p string) (string, string) { // the file ID and the known name of p
			id, err := fileID(h, abs(p))
			if err != nil {
				return "", p + " (" + err.Error() + ")"
			}
			if known, ok := want[id]; ok {
				return id, known
			}
			return id, p
		}
		remount := "umount " + point + ", then " + s.mountCommand(dir)
		var lowers []string
		for _, p := range l.Lower {
			_, n := label(p)
			lowers = append(lowers, n)
		}
		found := "lowerdir=" + strings.Join(lowers, ":")
		layer2, layer1 := filepath.Join(dir, "layer2"), filepath.Join(dir, "layer1")
		switch {
		case len(lowers) == 2 && lowers[0] == layer1 && lowers[1] == layer2:
			return checker.Result{Name: name, Status: checker.Fail,
				Expected: "lowerdir=" + layer2 + ":" + layer1, Found: found,
				Reason: "the lower layers are in the wrong order: " + found + " puts layer1 on top of layer2 (merged/version shows 1)",
				Hint:   "the first lowerdir is the top-most layer: " + remount}
		case len(lowers) != 2 || lowers[0] != layer2 || lowers[1] != layer1:
			return checker.Mismatch(name, "lowerdir="+layer2+":"+layer1+" (layer2 on top of layer1)", found, remount)
		}
		wantUpper, wantWork := filepath.Join(dir, s.upper), filepath.Join(dir, s.work)
		if l.Upper == "" {
			return checker.Failed(name, "the overlay at "+point+" is read-only: it has no upperdir", remount)
		}
		upperID, upper := label(l.Upper)
		_, work := label(l.Work)
		switch {
		case upper == wantWork && work == wantUpper:
			return checker.Mismatch(name, "upperdir="+wantUpper+" and workdir="+wantWork, "upperdir="+upper+" and workdir="+work+" (swapped)", remount)
		case upper != wantUpper:
			return checker.Mismatch(name, "upperdir="+wantUpper, "upperdir="+upper, "each overlay writes to its own upper dir: "+remount)
		case work != wantWork:
			return checker.Mismatch(name, "workdir="+wantWork, "workdir="+work, remount)
		}
		layer2ID, _ := label(layer2)
		layer1ID, _ := label(layer1)
		return checker.Passed(name,
			fmt.Sprintf("%s: overlay, lowerdir=%s (layer2 %s over layer1 %s), upperdir %s (%s)", point, found, layer2ID, layer1ID, upper, upperID))
	}
}
