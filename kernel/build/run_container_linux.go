package build

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/lab-edu/lab/kernel/container"
	"github.com/lab-edu/lab/kernel/overlay"
)

// runInContainer runs a RUN step through the mini-Docker runtime
// (kernel/container), as `docker build` runs each RUN in a container: the
// step's overlay is mounted here, and the container gets it as its root
// file system (Spec.Rootfs), with no network, Docker's default
// capabilities, its own cgroup, masked /proc paths and a fresh /dev. The
// container is removed when the command ends (--rm); only the upper dir,
// the step's layer, stays.
func runInContainer(ctx context.Context, job runJob, stateDir string, stdout, stderr io.Writer) error {
	l := overlay.Layers{Lower: job.Lower, Upper: job.Upper, Work: job.Work}
	if err := overlay.Mount(l, job.Merged); err != nil {
		return err
	}
	code, err := container.Run(ctx, stateDir, container.Spec{
		Rootfs: job.Merged, Cmd: job.Argv, Env: job.Env, Workdir: job.Workdir, User: job.User,
		Net: container.NetNone, Hostname: "lab-build", Remove: true,
	}, container.Stdio{In: strings.NewReader(""), Out: stdout, Err: stderr})
	if uerr := overlay.Unmount(job.Merged); uerr != nil && err == nil {
		err = uerr
	}
	if err != nil {
		var ce *container.Error
		if errors.As(err, &ce) {
			return &Error{ExitCode: ce.Code, Err: fmt.Errorf("RUN %s: %w (exit code %d)", strings.Join(job.Argv, " "), err, ce.Code)}
		}
		return fmt.Errorf("RUN %s: %w", strings.Join(job.Argv, " "), err)
	}
	if code != 0 {
		return &Error{ExitCode: code, Err: fmt.Errorf("RUN %s: the command returned a non-zero code: %d", strings.Join(job.Argv, " "), code)}
	}
	return dropRuntimeFiles(job.Upper)
}

// dropRuntimeFiles removes from a RUN step's upper dir the files the
// runtime wrote into the container (see RuntimeFile): docker bind-mounts
// them, so they are never part of a layer. A copy-up of /etc that is left
// empty goes too.
func dropRuntimeFiles(upper string) error {
	for _, name := range []string{"etc/hosts", "etc/hostname", "etc/resolv.conf"} {
		if err := os.Remove(filepath.Join(upper, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("clean RUN layer: %w", err)
		}
	}
	etc := filepath.Join(upper, "etc")
	if entries, err := os.ReadDir(etc); err == nil && len(entries) == 0 {
		if opaque, _ := overlay.IsOpaque(etc); !opaque {
			_ = os.Remove(etc)
		}
	}
	return nil
}
