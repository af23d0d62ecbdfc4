package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lab-edu/lab/kernel/build"
)

type imageBuildOptions struct {
	f         *Factory
	Tag       string
	File      string
	Context   string
	BuildArgs []string
	NoCache   bool
	Quiet     bool
	Target    string
}

func newCmdImageBuild(f *Factory, runF func(*imageBuildOptions) error) *cobra.Command {
	opts := &imageBuildOptions{f: f}
	cmd := &cobra.Command{
		Use:   "build -t NAME [-f Dockerfile] DIR",
		Short: "Build an image from a Dockerfile, like docker build",
		Long: `Build an image from a Dockerfile and the files of the build context DIR.

The builder knows FROM (and FROM scratch, FROM image AS name for multi-stage
builds), RUN, COPY (with --from=stage and --chown), ADD of local files and tars,
ENV, WORKDIR, CMD, ENTRYPOINT, EXPOSE, USER, LABEL and ARG. Each RUN, COPY and ADD
runs on an overlay of the layers so far and its upper dir becomes one layer.
Steps already built with the same inputs come from the cache (CACHED).
Files matched by DIR/.dockerignore are left out of the context.
A failing build adds nothing to the image store. Errors exit with docker's 125.`,
		Example: `  lab image build -t hello:v1 ./app
  lab image build -t hello -f ./app/Dockerfile.dev ./app
  lab image history hello:v1`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runImageBuild(cmd, opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Tag, "tag", "t", "", "name the image NAME[:TAG]")
	cmd.Flags().StringVarP(&opts.File, "file", "f", "", "the Dockerfile (default DIR/Dockerfile)")
	cmd.Flags().StringArrayVar(&opts.BuildArgs, "build-arg", nil, "set a build ARG: NAME=VALUE")
	cmd.Flags().BoolVar(&opts.NoCache, "no-cache", false, "run every step, even those the cache has")
	cmd.Flags().BoolVarP(&opts.Quiet, "quiet", "q", false, "print only the image ID")
	cmd.Flags().StringVar(&opts.Target, "target", "", "build up to this stage")
	return cmd
}

func runImageBuild(cmd *cobra.Command, opts *imageBuildOptions) error {
	args := map[string]string{}
	for _, a := range opts.BuildArgs {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return engineError(fmt.Errorf("--build-arg %q: want NAME=VALUE", a))
		}
		args[k] = v
	}
	s, err := openImageStore(opts.f)
	if err != nil {
		return err
	}
	ios := opts.f.IO
	progress, stdout := ios.Out, ios.Out
	if opts.Quiet {
		progress, stdout = nil, nil
	}
	res, err := build.Build(cmd.Context(), build.Options{
		Store: s, StateDir: opts.f.Root, ContextDir: opts.Context, Dockerfile: opts.File, Tag: opts.Tag,
		BuildArgs: args, NoCache: opts.NoCache, Target: opts.Target,
		Progress: progress, Stdout: stdout, Stderr: ios.ErrOut,
	})
	if err != nil {
		var be *build.Error
		if errors.As(err, &be) && be.ExitCode != 0 {
			return engineError(fmt.Errorf("build failed: %w", err))
		}
		return engineError(err)
	}
	if opts.Quiet {
		fmt.Fprintln(ios.Out, res.ID)
		return nil
	}
	printBuilt(ios.Out, res)
	return nil
}

func printBuilt(w io.Writer, res build.Result) {
	fmt.Fprintf(w, "Successfully built %s (%d new layers, %d steps from the cache)\n", res.ID.Encoded()[:12], res.NewLayers, res.Cached)
	if res.Name != "" {
		fmt.Fprintf(w, "Successfully tagged %s\n", res.Name)
	}
}
