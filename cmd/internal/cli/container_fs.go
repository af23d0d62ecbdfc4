package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/lab-edu/lab/kernel/build"
	"github.com/lab-edu/lab/kernel/container"
	"github.com/lab-edu/lab/kernel/overlay"
)

// diff, commit and export join the `lab container` tree (container.go).
func init() {
	containerCommands = append(containerCommands,
		func(f *Factory) *cobra.Command { return newCmdContainerDiff(f, nil) },
		func(f *Factory) *cobra.Command { return newCmdContainerCommit(f, nil) },
		func(f *Factory) *cobra.Command { return newCmdContainerExport(f, nil) },
	)
}

// --- diff

type containerDiffOptions struct {
	f         *Factory
	Container string
}

func newCmdContainerDiff(f *Factory, runF func(*containerDiffOptions) error) *cobra.Command {
	opts := &containerDiffOptions{f: f}
	return &cobra.Command{
		Use:   "diff CONTAINER",
		Short: "List the files a container added (A), changed (C) or deleted (D)",
		Long: `List what a container changed in its file system, like docker diff: the
content of its overlay upper dir compared with its image's layers. A file only
in the upper dir was added (A), one also in a lower layer was copied up and
changed (C), a whiteout (a character device 0/0) marks a deletion (D).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Container = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runContainerDiff(opts)
		},
	}
}

func runContainerDiff(opts *containerDiffOptions) error {
	c, err := loadContainer(opts.f, opts.Container)
	if err != nil {
		return err
	}
	lower, err := c.LowerDirs()
	if err != nil {
		return engineError(err)
	}
	changes, err := overlay.Diff(overlay.Layers{Lower: lower, Upper: c.UpperDir()})
	if err != nil {
		return engineError(err)
	}
	for _, ch := range changes {
		if build.RuntimeFile(ch.Path) {
			continue // written by the runtime, not by the container's command
		}
		fmt.Fprintf(opts.f.IO.Out, "%s %s\n", ch.Kind, ch.Path)
	}
	return nil
}

// --- commit

type containerCommitOptions struct {
	f         *Factory
	Container string
	Name      string
	Message   string
	Author    string
}

func newCmdContainerCommit(f *Factory, runF func(*containerCommitOptions) error) *cobra.Command {
	opts := &containerCommitOptions{f: f}
	cmd := &cobra.Command{
		Use:   "commit CONTAINER [NAME[:TAG]]",
		Short: "Make a new image from a container's changes",
		Long: `Make a new image from a container's changes, like docker commit: the
container's overlay upper dir is archived as one more layer (whiteouts become
.wh. entries) on top of its image's layers, and the container's command,
environment, working directory and user go into the new image's config.
A running container is paused while its upper dir is read.`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Container = args[0]
			if len(args) == 2 {
				opts.Name = args[1]
			}
			if runF != nil {
				return runF(opts)
			}
			return runContainerCommit(opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Message, "message", "m", "", "a comment for the new layer's history")
	cmd.Flags().StringVarP(&opts.Author, "author", "a", "", "the image's author")
	return cmd
}

func runContainerCommit(opts *containerCommitOptions) error {
	c, err := loadContainer(opts.f, opts.Container)
	if err != nil {
		return err
	}
	if c.ImageID == "" {
		return engineError(fmt.Errorf("container %s does not run on an image: nothing to commit onto", c.Name))
	}
	s, err := openImageStore(opts.f)
	if err != nil {
		return err
	}
	// docker commit pauses the container so its files do not change while
	// they are archived.
	if c.IsRunning() && c.State.Status != container.Paused {
		if err := c.Pause(); err == nil {
			defer func() { _ = c.Unpause() }()
		}
	}
	id, err := build.Commit(s, build.CommitOptions{
		Upper: c.UpperDir(), Base: c.ImageID, Name: opts.Name, Comment: opts.Message, Author: opts.Author,
		Cmd: c.Spec.Cmd, Env: c.Spec.Env, WorkingDir: c.Spec.Workdir, User: c.Spec.User,
	})
	if err != nil {
		return engineError(err)
	}
	fmt.Fprintln(opts.f.IO.Out, id)
	return nil
}

// --- export

type containerExportOptions struct {
	f         *Factory
	Container string
	Output    string
}

func newCmdContainerExport(f *Factory, runF func(*containerExportOptions) error) *cobra.Command {
	opts := &containerExportOptions{f: f}
	cmd := &cobra.Command{
		Use:   "export CONTAINER -o FILE",
		Short: "Write a container's whole file system to a tar",
		Long: `Write a container's file system, as the container sees it, to a tar, like
docker export: its upper dir and its image's layers are mounted as one
read-only overlay in a private mount namespace and archived. It works on
running and stopped containers.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Container = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runContainerExport(cmd, opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "", "write to FILE instead of standard output")
	return cmd
}

func runContainerExport(cmd *cobra.Command, opts *containerExportOptions) error {
	if opts.Output == "" && opts.f.IO.IsTerminal() {
		return engineError(errors.New("refusing to write a tar to a terminal: use -o FILE or redirect the output"))
	}
	c, err := loadContainer(opts.f, opts.Container)
	if err != nil {
		return err
	}
	lower, err := c.LowerDirs()
	if err != nil {
		return engineError(err)
	}
	stack := append([]string{c.UpperDir()}, lower...)
	if opts.Output == "" {
		return engineError(build.Export(cmd.Context(), opts.f.IO.Out, stack, c.Dir()))
	}
	// Write beside the target and rename at the end: an interrupted export
	// never leaves half a tar under the name asked for.
	tmp, err := os.CreateTemp(filepath.Dir(opts.Output), "."+filepath.Base(opts.Output)+".tmp-")
	if err != nil {
		return engineError(fmt.Errorf("export: %w", err))
	}
	defer os.Remove(tmp.Name())
	err = build.Export(cmd.Context(), tmp, stack, c.Dir())
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), opts.Output)
	}
	if err != nil {
		return engineError(fmt.Errorf("export %s: %w", c.Name, err))
	}
	return nil
}
