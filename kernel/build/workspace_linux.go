package build

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"

	"github.com/lab-edu/lab/kernel/image"
	"github.com/lab-edu/lab/kernel/mount"
	"github.com/lab-edu/lab/kernel/overlay"
	"github.com/lab-edu/lab/kernel/reexec"
)

// workspace is one build's scratch directory, ROOT/builds/b-XXXX inside
// the image store (so overlay upper dirs sit on the store's file system):
// per step an upper, a work and a merged dir, each new layer's tar and its
// unpacked copy. A flock(2) on its lock file marks it in use; a build that
// finds a workspace nobody holds (its lab was killed) removes it.
type workspace struct {
	dir   string
	lock  *os.File
	empty string // an empty dir: the lower layer of FROM scratch
	n     int
	made  map[digest.Digest]layer // layers this build made, by DiffID
	order []digest.Digest
}

// stepDirs are the overlay directories of one step.
type stepDirs struct {
	upper, work, merged string
}

func newWorkspace(storeRoot string) (*workspace, error) {
	parent := filepath.Join(storeRoot, "builds")
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return nil, fmt.Errorf("create build workspace: %w", err)
	}
	removeStaleWorkspaces(parent)
	dir, err := os.MkdirTemp(parent, "b-")
	if err != nil {
		return nil, fmt.Errorf("create build workspace: %w", err)
	}
	w := &workspace{dir: dir, empty: filepath.Join(dir, "empty"), made: map[digest.Digest]layer{}}
	if w.lock, err = lockFile(filepath.Join(dir, "lock"), false); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := os.Mkdir(w.empty, 0o755); err != nil {
		w.remove()
		return nil, err
	}
	return w, nil
}

// lockFile opens and flocks path; with try, it fails at once (EWOULDBLOCK)
// when another process holds it.
func lockFile(path string, try bool) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	how := unix.LOCK_EX
	if try {
		how |= unix.LOCK_NB
	}
	if err := unix.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		return nil, &os.PathError{Op: "flock", Path: path, Err: err}
	}
	return f, nil
}

// Cleanup removes what builds killed mid-way left in the image store at
// storeRoot (their workspaces, and the overlay mount of a RUN step that
// was running; a running build's workspace, whose lock is held, is kept),
// and the build cache entries whose layer the store has since deleted.
// Every build removes stale workspaces itself; `lab reset` and
// `lab container prune` can call Cleanup to do it all.
func Cleanup(storeRoot string) error {
	removeStaleWorkspaces(filepath.Join(storeRoot, "builds"))
	s, err := image.Open(storeRoot)
	if err != nil {
		return err
	}
	return openCache(s).prune(func(d digest.Digest) bool { _, ok := s.Layer(d); return ok })
}

// removeStaleWorkspaces deletes the workspaces of builds that are gone.
func removeStaleWorkspaces(parent string) {
	entries, _ := os.ReadDir(parent)
	for _, e := range entries {
		dir := filepath.Join(parent, e.Name())
		lockPath := filepath.Join(dir, "lock")
		if _, err := os.Stat(lockPath); err != nil {
			// No lock file yet: a build is creating this workspace right
			// now, or was killed just then (removed once it is old).
			if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > time.Minute {
				_ = mount.UnmountAll(dir)
				_ = os.RemoveAll(dir)
			}
			continue
		}
		lock, err := lockFile(lockPath, true)
		if err != nil {
			continue // a running build holds it
		}
		_ = mount.UnmountAll(dir)
		_ = os.RemoveAll(dir)
		lock.Close()
	}
}

// remove unmounts anything left below the workspace and deletes it.
func (w *workspace) remove() {
	_ = mount.UnmountAll(w.dir)
	_ = os.RemoveAll(w.dir)
	if w.lock != nil {
		w.lock.Close()
	}
}

func (w *workspace) newStep() (*stepDirs, error) {
	w.n++
	st := &stepDirs{
		upper:  filepath.Join(w.dir, fmt.Sprintf("upper-%d", w.n)),
		work:   filepath.Join(w.dir, fmt.Sprintf("work-%d", w.n)),
		merged: filepath.Join(w.dir, fmt.Sprintf("merged-%d", w.n)),
	}
	for _, d := range []string{st.upper, st.work, st.merged} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return nil, fmt.Errorf("create step dir: %w", err)
		}
	}
	return st, nil
}

// layers is the overlay stack of a step on top of s.
func (w *workspace) layers(s *state, st *stepDirs) overlay.Layers {
	lower := s.lowerDirs()
	if len(lower) == 0 {
		lower = []string{w.empty}
	}
	return overlay.Layers{Lower: lower, Upper: st.upper, Work: st.work}
}

// archive turns a step's upper dir into a layer: its tar (hashed while
// written: the DiffID), unpacked again the way the store unpacks layers, so
// the next steps stack exactly what the store will hold. The upper and
// work dirs are deleted.
func (w *workspace) archive(st *stepDirs) (layer, error) {
	tarPath := filepath.Join(w.dir, fmt.Sprintf("layer-%d.tar", w.n))
	f, err := os.OpenFile(tarPath, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return layer{}, err
	}
	h := sha256.New()
	cw := &counter{}
	err = image.WriteLayer(io.MultiWriter(f, h, cw), st.upper)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return layer{}, fmt.Errorf("archive layer: %w", err)
	}
	d := digest.NewDigest(digest.SHA256, h)
	_ = os.RemoveAll(st.upper)
	_ = os.RemoveAll(st.work)
	_ = os.Remove(st.merged)
	if l, ok := w.made[d]; ok { // the same layer twice (two stages, same step)
		return l, nil
	}
	unpacked := filepath.Join(w.dir, "layer-"+d.Encoded()[:16])
	if err := os.Mkdir(unpacked, 0o755); err != nil {
		return layer{}, err
	}
	r, err := os.Open(tarPath)
	if err != nil {
		return layer{}, err
	}
	defer r.Close()
	if err := image.Unpack(r, unpacked); err != nil {
		return layer{}, fmt.Errorf("unpack layer: %w", err)
	}
	l := layer{diffID: d, size: cw.n, dir: unpacked, tar: tarPath}
	w.made[d] = l
	w.order = append(w.order, d)
	return l, nil
}

type counter struct{ n int64 }

func (c *counter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// copy runs a COPY or ADD job in the copy helper.
func (w *workspace) copy(ctx context.Context, s *state, st *stepDirs, job copyJob) error {
	l := w.layers(s, st)
	job.Lower, job.Upper, job.Work, job.Merged = l.Lower, l.Upper, l.Work, st.merged
	if job.SourceLower != nil {
		job.SourceDir = filepath.Join(w.dir, fmt.Sprintf("from-%d", w.n))
		if err := os.Mkdir(job.SourceDir, 0o755); err != nil {
			return err
		}
		if len(job.SourceLower) < 2 { // a read-only overlay needs two lowers
			job.SourceLower = append(job.SourceLower, w.empty)
		}
	}
	return runHelper(ctx, entryCopy, job, syscall.CLONE_NEWNS)
}

// mkdir creates a directory (WORKDIR) in a step's overlay.
func (w *workspace) mkdir(ctx context.Context, s *state, st *stepDirs, dir string) error {
	l := w.layers(s, st)
	job := copyJob{Lower: l.Lower, Upper: l.Upper, Work: l.Work, Merged: st.merged, Mkdir: dir}
	return runHelper(ctx, entryCopy, job, syscall.CLONE_NEWNS)
}

// runHelper starts a re-executed helper with its job as JSON on stdin,
// and returns its error message (it prints one line on stderr) on failure.
func runHelper(ctx context.Context, entry string, job any, cloneflags uintptr) error {
	raw, err := json.Marshal(job)
	if err != nil {
		return err
	}
	cmd := reexec.Command(entry)
	cmd.Stdin = bytes.NewReader(raw)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: cloneflags, Pdeathsig: syscall.SIGKILL}
	if err := runCtx(ctx, cmd); err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return errors.New(msg)
		}
		return fmt.Errorf("%s helper: %w", entry, err)
	}
	return nil
}

// runCtx runs cmd and kills it if ctx ends first.
func runCtx(ctx context.Context, cmd *exec.Cmd) error {
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			_ = cmd.Process.Kill()
		case <-done:
		}
	}()
	err := cmd.Wait()
	close(done)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// helperFail ends a helper with a one-line message.
func helperFail(code int, format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(code)
}

// readJob decodes a helper's job from stdin.
func readJob(v any) {
	if err := json.NewDecoder(os.Stdin).Decode(v); err != nil {
		helperFail(125, "build helper: read job: %v", err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
