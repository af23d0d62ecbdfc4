package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/lab-edu/lab/kernel/image"
)

// exitImageError is docker's exit code for an error of the engine itself (a
// bad archive, an unknown image): the mini-Docker commands use it instead
// of lab's own codes, so scripts written for docker read them the same.
const exitImageError = 125

// engineError ends an image command with docker's exit code 125.
func engineError(err error) error {
	var ee *ExitError
	if err == nil || errors.As(err, &ee) {
		return err
	}
	return &ExitError{Code: exitImageError, Err: err}
}

// imageStoreDir is where images live: beside the workspaces, under the
// state directory (/var/lib/lab/images).
func imageStoreDir(f *Factory) string { return filepath.Join(f.Root, "images") }

func openImageStore(f *Factory) (*image.Store, error) {
	if err := requireRoot(f); err != nil {
		return nil, err
	}
	s, err := image.Open(imageStoreDir(f))
	return s, engineError(err)
}

// newCmdImage is `lab image`, docker's management command for images.
func newCmdImage(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "image",
		Short: "Manage the mini-Docker's images (ls, import-busybox, import, load, save, tag, rm, history)",
		Long: `Manage the images of lab's mini-Docker. Images live in an OCI image layout
under the state directory (` + DefaultRoot + `/images): blobs/sha256 holds the
manifests, configs and layer tars by digest, layers/ each layer unpacked once
and shared by every image and container. Errors exit with docker's code 125.`,
	}
	cmd.AddCommand(
		newCmdImageList(f, nil), newCmdImageImportBusybox(f, nil), newCmdImageImport(f, nil),
		newCmdImageLoad(f, nil), newCmdImageSave(f, nil), newCmdImageTag(f, nil),
		newCmdImageRemove(f, nil), newCmdImageHistory(f, nil),
	)
	cmd.AddCommand(newCmdImageBuild(f, nil))
	return cmd
}

// progress returns a byte-counting progress bar on a terminal, or nil.
func progress(f *Factory, total int64, what string) (io.Writer, func()) {
	if !f.IO.IsTerminal() {
		return nil, func() {}
	}
	bar := progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(f.IO.Out),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowBytes(true),
		progressbar.OptionThrottle(65*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
	return bar, func() { _ = bar.Finish() }
}

// --- ls

type imageListOptions struct {
	f     *Factory
	Quiet bool
}

func newCmdImageList(f *Factory, runF func(*imageListOptions) error) *cobra.Command {
	opts := &imageListOptions{f: f}
	cmd := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List images",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runImageList(opts)
		},
	}
	cmd.Flags().BoolVarP(&opts.Quiet, "quiet", "q", false, "only show image IDs")
	return cmd
}

func runImageList(opts *imageListOptions) error {
	s, err := openImageStore(opts.f)
	if err != nil {
		return err
	}
	all, err := s.List()
	if err != nil {
		return engineError(err)
	}
	out := opts.f.IO.Out
	if opts.Quiet {
		for _, img := range all {
			fmt.Fprintln(out, img.ShortID())
		}
		return nil
	}
	tw := tabwriter.NewWriter(out, 0, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tLAYERS\tSIZE")
	for _, img := range all {
		created := "-"
		if img.Config.Created != nil {
			created = ago(*img.Config.Created)
		}
		names := img.Names
		if len(names) == 0 {
			names = []string{"<none>:<none>"}
		}
		for _, n := range names {
			repo, tag := splitName(n)
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", repo, tag, img.ShortID(), created, len(img.Layers), humanSize(img.Size()))
		}
	}
	return tw.Flush()
}

// splitName splits "repo:tag" at the tag's colon (not a registry port's).
func splitName(n string) (string, string) {
	i := strings.LastIndex(n, ":")
	if i < 0 || strings.Contains(n[i:], "/") {
		return n, ""
	}
	return n[:i], n[i+1:]
}

// --- import-busybox

type imageImportBusyboxOptions struct {
	f      *Factory
	Name   string
	Binary string
}

func newCmdImageImportBusybox(f *Factory, runF func(*imageImportBusyboxOptions) error) *cobra.Command {
	opts := &imageImportBusyboxOptions{f: f, Name: "busybox"}
	cmd := &cobra.Command{
		Use:   "import-busybox [NAME]",
		Short: "Build a base image offline from the host's static busybox",
		Long: `Build a one-layer base image from the host's busybox-static binary: no
registry and no network needed. NAME defaults to busybox (busybox:latest).
The layer is reproducible, so importing again shares everything.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Name = args[0]
			}
			if runF != nil {
				return runF(opts)
			}
			return runImageImportBusybox(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Binary, "binary", image.DefaultBusybox, "the static busybox binary to use")
	return cmd
}

func runImageImportBusybox(opts *imageImportBusyboxOptions) error {
	s, err := openImageStore(opts.f)
	if err != nil {
		return err
	}
	var total int64 = -1
	if fi, err := os.Stat(opts.Binary); err == nil {
		total = fi.Size()
	}
	bar, done := progress(opts.f, total, "importing busybox")
	imp, err := s.ImportBusybox(opts.Binary, opts.Name, image.Options{Progress: bar})
	done()
	if err != nil {
		return engineError(err)
	}
	fmt.Fprintf(opts.f.IO.Out, "Imported %s (%s)\n", imp.Names[0], imp.ID)
	return nil
}

// --- import

type imageImportOptions struct {
	f    *Factory
	File string
	Name string
}

func newCmdImageImport(f *Factory, runF func(*imageImportOptions) error) *cobra.Command {
	opts := &imageImportOptions{f: f}
	cmd := &cobra.Command{
		Use:   "import FILE NAME",
		Short: "Make a one-layer image from a root filesystem tar, like docker import",
		Long: `Make a one-layer image from an uncompressed tar of a root filesystem (FILE,
or - for standard input), like docker import. The layer's digest is the
sha256 of the tar, what sha256sum FILE prints.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File, opts.Name = args[0], args[1]
			if runF != nil {
				return runF(opts)
			}
			return runImageImport(opts)
		},
	}
	return cmd
}

func runImageImport(opts *imageImportOptions) error {
	s, err := openImageStore(opts.f)
	if err != nil {
		return err
	}
	r, total := opts.f.IO.In, int64(-1)
	if opts.File != "-" {
		file, err := os.Open(opts.File)
		if err != nil {
			return engineError(fmt.Errorf("import: %w", err))
		}
		defer file.Close()
		if fi, err := file.Stat(); err == nil {
			total = fi.Size()
		}
		r = file
	}
	bar, done := progress(opts.f, total, "importing")
	imp, err := s.Import(r, opts.Name, "lab image import "+filepath.Base(opts.File), image.Options{Progress: bar})
	done()
	if err != nil {
		return engineError(fmt.Errorf("import %s: %w", opts.File, err))
	}
	fmt.Fprintln(opts.f.IO.Out, imp.ID)
	return nil
}

// --- load

type imageLoadOptions struct {
	f     *Factory
	File  string
	Quiet bool
}

func newCmdImageLoad(f *Factory, runF func(*imageLoadOptions) error) *cobra.Command {
	opts := &imageLoadOptions{f: f}
	cmd := &cobra.Command{
		Use:   "load FILE",
		Short: "Load images from a docker save or OCI layout tarball",
		Long: `Load every image of a tarball made by docker save (manifest.json) or of an
OCI image layout (oci-layout, index.json). Every layer is checked against
its digest first: a truncated or tampered archive, or one whose entries
would write outside their layer, is refused and the store is left as it was.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				if opts.File != "" {
					return engineError(errors.New("give the archive once: as FILE or with -i"))
				}
				opts.File = args[0]
			}
			if opts.File == "" {
				return engineError(errors.New("load: which archive? lab image load FILE"))
			}
			if runF != nil {
				return runF(opts)
			}
			return runImageLoad(opts)
		},
	}
	cmd.Flags().StringVarP(&opts.File, "input", "i", "", "the archive to read (docker load -i)")
	cmd.Flags().BoolVarP(&opts.Quiet, "quiet", "q", false, "no progress bar")
	return cmd
}

func runImageLoad(opts *imageLoadOptions) error {
	s, err := openImageStore(opts.f)
	if err != nil {
		return err
	}
	var total int64 = -1
	if fi, err := os.Stat(opts.File); err == nil {
		total = fi.Size()
	}
	var bar io.Writer
	done := func() {}
	if !opts.Quiet {
		bar, done = progress(opts.f, total, "loading")
	}
	loaded, err := s.Load(opts.File, image.Options{Progress: bar})
	done()
	if err != nil {
		return engineError(err)
	}
	for _, imp := range loaded {
		if len(imp.Names) == 0 {
			fmt.Fprintf(opts.f.IO.Out, "Loaded image ID: %s\n", imp.ID)
		}
		for _, n := range imp.Names {
			fmt.Fprintf(opts.f.IO.Out, "Loaded image: %s\n", n)
		}
	}
	return nil
}

// --- save

type imageSaveOptions struct {
	f      *Factory
	Names  []string
	Output string
	Format string
}

func newCmdImageSave(f *Factory, runF func(*imageSaveOptions) error) *cobra.Command {
	opts := &imageSaveOptions{f: f}
	cmd := &cobra.Command{
		Use:   "save NAME... -o FILE",
		Short: "Save images to a docker save or OCI layout tarball",
		Long: `Save images to one archive. --format docker (the default) writes what docker
save writes (manifest.json, the config, a tar per layer); --format oci writes
a tar of an OCI image layout. Loading it back gives the same image ID and
layer digests.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Names = args
			if runF != nil {
				return runF(opts)
			}
			return runImageSave(opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "", "write to FILE instead of standard output")
	cmd.Flags().StringVar(&opts.Format, "format", "docker", "archive format: docker or oci")
	return cmd
}

func runImageSave(opts *imageSaveOptions) error {
	format := image.Format(opts.Format)
	if format != image.DockerArchive && format != image.OCIArchive {
		return engineError(fmt.Errorf("unknown --format %q: use docker or oci", opts.Format))
	}
	if opts.Output == "" && opts.f.IO.IsTerminal() {
		return engineError(errors.New("refusing to write an archive to a terminal: use -o FILE or redirect the output"))
	}
	s, err := openImageStore(opts.f)
	if err != nil {
		return err
	}
	var total int64
	for _, n := range opts.Names {
		img, err := s.Get(n)
		if err != nil {
			return engineError(err)
		}
		total += img.Size()
	}
	if opts.Output == "" {
		return engineError(s.Save(opts.Names, opts.f.IO.Out, format, image.Options{}))
	}
	// Write beside the target and rename at the end: an interrupted save
	// never leaves half an archive under the name asked for.
	tmp, err := os.CreateTemp(filepath.Dir(opts.Output), "."+filepath.Base(opts.Output)+".tmp-")
	if err != nil {
		return engineError(fmt.Errorf("save: %w", err))
	}
	defer os.Remove(tmp.Name())
	bar, done := progress(opts.f, total, "saving")
	err = s.Save(opts.Names, tmp, format, image.Options{Progress: bar})
	done()
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
		return engineError(fmt.Errorf("save %s: %w", opts.Output, err))
	}
	return nil
}

// --- tag

type imageTagOptions struct {
	f                 *Factory
	Source, NewTarget string
}

func newCmdImageTag(f *Factory, runF func(*imageTagOptions) error) *cobra.Command {
	opts := &imageTagOptions{f: f}
	return &cobra.Command{
		Use:   "tag SOURCE TARGET",
		Short: "Give an image another name",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Source, opts.NewTarget = args[0], args[1]
			if runF != nil {
				return runF(opts)
			}
			s, err := openImageStore(opts.f)
			if err != nil {
				return err
			}
			return engineError(s.Tag(opts.Source, opts.NewTarget))
		},
	}
}

// --- rm

type imageRemoveOptions struct {
	f    *Factory
	Refs []string
}

func newCmdImageRemove(f *Factory, runF func(*imageRemoveOptions) error) *cobra.Command {
	opts := &imageRemoveOptions{f: f}
	return &cobra.Command{
		Use:     "rm IMAGE...",
		Aliases: []string{"remove", "rmi"},
		Short:   "Remove images (a name, or an ID for every name of it)",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Refs = args
			if runF != nil {
				return runF(opts)
			}
			return runImageRemove(opts)
		},
	}
}

func runImageRemove(opts *imageRemoveOptions) error {
	s, err := openImageStore(opts.f)
	if err != nil {
		return err
	}
	var errs []error
	for _, ref := range opts.Refs {
		untagged, deleted, err := s.Remove(ref)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, n := range untagged {
			fmt.Fprintf(opts.f.IO.Out, "Untagged: %s\n", n)
		}
		for _, d := range deleted {
			fmt.Fprintf(opts.f.IO.Out, "Deleted: %s\n", d)
		}
	}
	return engineError(errors.Join(errs...))
}

// --- history

type imageHistoryOptions struct {
	f       *Factory
	Ref     string
	NoTrunc bool
}

func newCmdImageHistory(f *Factory, runF func(*imageHistoryOptions) error) *cobra.Command {
	opts := &imageHistoryOptions{f: f}
	cmd := &cobra.Command{
		Use:   "history IMAGE",
		Short: "Show the layers of an image, newest first, with sizes and digests",
		Long: `Show how an image was built, newest step first: each step's command and the
layer it made, with the layer's size and digest (the sha256 of the layer's
uncompressed tar, its DiffID). Steps that changed only the config (ENV, CMD)
made no layer.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Ref = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runImageHistory(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.NoTrunc, "no-trunc", false, "do not shorten the CREATED BY column")
	return cmd
}

func runImageHistory(opts *imageHistoryOptions) error {
	s, err := openImageStore(opts.f)
	if err != nil {
		return err
	}
	entries, err := s.History(opts.Ref)
	if err != nil {
		return engineError(err)
	}
	tw := tabwriter.NewWriter(opts.f.IO.Out, 0, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "LAYER DIGEST\tSIZE\tCREATED\tCREATED BY")
	for _, e := range entries {
		layer, size := "<no layer>", "0B"
		if !e.EmptyLayer && e.DiffID != "" {
			layer, size = e.DiffID.String(), humanSize(e.Size)
		}
		created := "-"
		if !e.Created.IsZero() {
			created = ago(e.Created)
		}
		by := strings.Join(strings.Fields(e.CreatedBy), " ")
		if !opts.NoTrunc && len(by) > 60 {
			by = by[:57] + "..."
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", layer, size, created, by)
	}
	return tw.Flush()
}

// humanSize prints bytes the way docker does (decimal units).
func humanSize(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%dB", n)
	}
	v, suffix := float64(n), "B"
	for _, s := range []string{"kB", "MB", "GB", "TB"} {
		v /= unit
		suffix = s
		if v < unit {
			break
		}
	}
	return fmt.Sprintf("%.3g%s", v, suffix)
}

// ago prints how long ago t was, roughly, as docker does.
func ago(t time.Time) string {
	d := time.Since(t)
	switch {
	case d < time.Minute:
		return "less than a minute ago"
	case d < time.Hour:
		return fmt.Sprintf("%d minutes ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d hours ago", int(d.Hours()))
	case d < 60*24*time.Hour:
		return fmt.Sprintf("%d days ago", int(d.Hours()/24))
	case d < 2*365*24*time.Hour:
		return fmt.Sprintf("%d months ago", int(d.Hours()/24/30))
	}
	return fmt.Sprintf("%d years ago", int(d.Hours()/24/365))
}
