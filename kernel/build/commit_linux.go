package build

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/lab-edu/lab/kernel/image"
	"github.com/lab-edu/lab/kernel/mount"
	"github.com/lab-edu/lab/kernel/overlay"
	"github.com/lab-edu/lab/kernel/reexec"
)

// CommitOptions describe a `docker commit`: a container's upper dir
// becomes one more layer on top of its image.
type CommitOptions struct {
	Upper   string // the container's overlay upper dir
	Base    string // the container's image (an ID or a name)
	Name    string // the new image's name; empty: untagged
	Comment string // -m
	Author  string // -a
	// The container's own run settings, which docker commit keeps in the
	// new image's config: a non-empty value replaces the image's.
	Cmd        []string
	Env        []string // KEY=VALUE, merged over the image's
	WorkingDir string
	User       string
}

// Commit makes a new image from a container's changes, like `docker
// commit CONTAINER NAME`: the upper dir, archived by image.WriteLayer
// (whiteouts turned into ".wh." entries), is added as a layer on top of
// the base image's layers, and the new config records the step in its
// history. Nothing enters the store unless all of it does.
func Commit(s *image.Store, opts CommitOptions) (digest.Digest, error) {
	base, err := s.Get(opts.Base)
	if err != nil {
		return "", fmt.Errorf("commit: base image: %w", err)
	}
	tmp, err := os.CreateTemp(s.Root(), ".commit-*.tar")
	if err != nil {
		return "", fmt.Errorf("commit: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if err := image.WriteLayerSkipping(tmp, opts.Upper, RuntimeFile); err != nil {
		return "", fmt.Errorf("commit: %w", err)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	cfg := base.Config
	c := &cfg.Config
	c.Env = slices.Clone(c.Env)
	for _, kv := range opts.Env {
		k, v, _ := strings.Cut(kv, "=")
		c.Env = setEnv(c.Env, k, v)
	}
	if len(opts.Cmd) > 0 {
		c.Cmd = opts.Cmd
	}
	if opts.WorkingDir != "" {
		c.WorkingDir = opts.WorkingDir
	}
	if opts.User != "" {
		c.User = opts.User
	}
	if opts.Author != "" {
		cfg.Author = opts.Author
	}
	now := time.Now().UTC().Truncate(time.Second)
	cfg.Created = &now
	ch, err := s.Begin(image.Options{})
	if err != nil {
		return "", err
	}
	defer ch.Abort()
	diffID, _, err := ch.AddLayer(tmp)
	if err != nil {
		return "", fmt.Errorf("commit: %w", err)
	}
	cfg.RootFS.DiffIDs = append(slices.Clone(cfg.RootFS.DiffIDs), diffID)
	createdBy := "lab container commit"
	if len(opts.Cmd) > 0 {
		createdBy += " (" + strings.Join(opts.Cmd, " ") + ")"
	}
	cfg.History = append(slices.Clone(cfg.History), ocispec.History{Created: &now, CreatedBy: createdBy, Comment: opts.Comment, Author: opts.Author})
	id, err := ch.AddImage(cfg, opts.Name)
	if err != nil {
		return "", err
	}
	return id, ch.Commit()
}

// exportJob is what the export helper mounts and archives.
type exportJob struct {
	Lower  []string `json:"lower"`
	Target string   `json:"target"`
}

const entryExport = "build-export"

func init() { reexec.Register(entryExport, exportMain) }

// Export writes the merged file system of a stack of layers (top-most
// first, a container's upper dir then its image's layers) to w as a tar,
// like `docker export`. It works whether or not the container runs: a
// helper in a mount namespace of its own mounts the layers as a read-only
// overlay and archives what it shows, so the kernel itself resolves
// whiteouts and opaque directories, and the mount goes away with the
// helper.
func Export(ctx context.Context, w io.Writer, lower []string, scratch string) error {
	lower = slices.Clone(lower)
	if len(lower) < 2 { // a read-only overlay needs two lower dirs
		empty, err := os.MkdirTemp(scratch, ".export-empty-")
		if err != nil {
			return err
		}
		defer os.Remove(empty)
		lower = append(lower, empty)
	}
	target, err := os.MkdirTemp(scratch, ".export-")
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer os.Remove(target)
	raw, err := json.Marshal(exportJob{Lower: lower, Target: target})
	if err != nil {
		return err
	}
	cmd := reexec.Command(entryExport, string(raw))
	cmd.Stdout = w
	var stderr strings.Builder
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNS, Pdeathsig: syscall.SIGKILL}
	if err := runCtx(ctx, cmd); err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return fmt.Errorf("export: %s", msg)
		}
		return fmt.Errorf("export: %w", err)
	}
	return nil
}

func exportMain() {
	var job exportJob
	if len(os.Args) < 2 || json.Unmarshal([]byte(os.Args[1]), &job) != nil {
		helperFail(125, "bad export job")
	}
	if err := mount.MakeRPrivate("/"); err != nil {
		helperFail(125, "%v", err)
	}
	if err := overlay.Mount(overlay.Layers{Lower: job.Lower}, job.Target); err != nil {
		helperFail(125, "%v", err)
	}
	if err := image.WriteLayer(os.Stdout, job.Target); err != nil {
		helperFail(1, "%v", err)
	}
	os.Exit(0)
}
