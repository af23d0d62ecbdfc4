package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lab-edu/lab/kernel/rootfs"
)

type escapeOptions struct {
	f   *Factory
	PID int // 0: the demonstration in a throwaway chroot
}

func cmdEscape(f *Factory) *cobra.Command { return newCmdEscape(f, nil) }

func newCmdEscape(f *Factory, runF func(*escapeOptions) error) *cobra.Command {
	opts := &escapeOptions{f: f}
	var pid string
	cmd := &cobra.Command{
		Use:   "escape [--pid PID]",
		Short: "Show root breaking out of a chroot, or test a jail against it",
		Long: `Run the classic chroot escape and show where it lands.

Without --pid, lab makes a throwaway chroot, and a child of lab, root inside
it, does: chroot into a subdirectory without chdir (its working directory is
now outside its root), chdir("..") many times, chroot("."). It ends on the
host's /: a plain chroot does not hold root.

With --pid PID, the child first joins that process's mount namespace and
root directory (what the checker does for the chroot/escape step), then
tries the same. Against a pivot_root jail whose old root is unmounted it
ends on the jail's own root; the exit code is 1 when it reaches the host's.`,
		Example: `  sudo lab escape
  sudo lab escape --pid $(pgrep -n sleep)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if pid != "" {
				n, err := strconv.Atoi(pid)
				if err != nil || n <= 0 {
					return FlagError("--pid %q is not a process ID: give a number, for example --pid $(pgrep -n sleep)", pid)
				}
				opts.PID = n
			}
			if runF != nil {
				return runF(opts)
			}
			return runEscape(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&pid, "pid", "", "run the escape from inside this process's mount namespace and root")
	return cmd
}

func runEscape(ctx context.Context, opts *escapeOptions) error {
	f := opts.f
	if opts.PID != 0 {
		if _, err := os.Stat("/proc/" + strconv.Itoa(opts.PID)); err != nil {
			return FlagError("--pid %d: no such process: give the PID of a process in your jail (pgrep -n sleep)", opts.PID)
		}
	}
	if err := requireRoot(f); err != nil {
		return err
	}
	out := f.IO.Out
	if opts.PID != 0 {
		res, err := rootfs.EscapeFromProcess(ctx, opts.PID)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "From inside process %d (its mount namespace and its root), a child of lab ran:\n", opts.PID)
		printEscape(out, res)
		if res.Escaped {
			return Silent(ExitFailed)
		}
		return nil
	}
	base := filepath.Join(f.Work(), "chroot")
	if err := os.MkdirAll(base, 0o755); err != nil {
		return err
	}
	demo, err := os.MkdirTemp(base, "escape-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(demo)
	jail := filepath.Join(demo, "jail")
	if err := os.MkdirAll(filepath.Join(jail, "inside"), 0o755); err != nil {
		return err
	}
	res, err := rootfs.EscapeFrom(ctx, jail)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "A throwaway chroot: %s\nA child of lab, root, ran:\n", jail)
	printEscape(out, res)
	return nil
}

func printEscape(out interface{ Write([]byte) (int, error) }, res rootfs.EscapeResult) {
	for i, s := range res.Steps {
		fmt.Fprintf(out, "  %d. %s\n", i+1, s)
	}
	verdict := "not the host's: the jail held"
	if res.Escaped {
		verdict = "the host's own /: it escaped"
	}
	fmt.Fprintf(out, "It ended on the directory %s (device:inode); the host's / is %s: %s.\n", res.Reached, res.HostRoot, verdict)
	fmt.Fprintf(out, "Its / now holds: %s\n", strings.Join(res.Entries, " "))
}
