package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lab-edu/lab/kernel/cgroup"
)

// stressOptions: one bounded load generator run.
type stressOptions struct {
	IO      *IOStreams
	Kind    string // "mem", "cpu" or "fork"
	Size    int64  // mem: bytes to allocate
	Hold    time.Duration
	Seconds time.Duration // cpu: how long to spin
	Max     int           // fork: most children
}

func cmdStress(f *Factory) *cobra.Command { return newCmdStress(f, nil) }

func newCmdStress(f *Factory, runF func(*stressOptions) error) *cobra.Command {
	run := func(opts *stressOptions) error {
		if runF != nil {
			return runF(opts)
		}
		return runStress(opts)
	}
	cmd := &cobra.Command{
		Use:   "stress mem SIZE | cpu | fork",
		Short: "Bounded load generators to run inside a cgroup",
		Long: `Small load generators that always stop, to make a cgroup's limits visible.
Move your shell into a group first (echo $$ > .../cgroup.procs), then:

  lab stress mem 100M        touch 100 MiB of memory (the OOM killer may end it)
  lab stress cpu --seconds 5 spin on one CPU and report the share it got
  lab stress fork --max 100  fork up to 100 idle children, then kill them all`,
	}
	var hold float64
	mem := &cobra.Command{
		Use:   "mem SIZE",
		Short: "Allocate and touch SIZE of memory (K, M, G suffixes; at most 1G)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			size, err := parseSize(args[0])
			if err != nil {
				return err
			}
			if hold < 0 || hold > 3600 {
				return FlagError("invalid --hold %g: want 0 to 3600 seconds", hold)
			}
			return run(&stressOptions{IO: f.IO, Kind: "mem", Size: size, Hold: time.Duration(hold * float64(time.Second))})
		},
	}
	mem.Flags().Float64Var(&hold, "hold", 0, "keep the memory this many seconds before exiting")
	var seconds float64
	cpu := &cobra.Command{
		Use:   "cpu",
		Short: "Spin on one CPU and report how much CPU time the kernel gave",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if seconds <= 0 || seconds > cgroup.MaxBurn.Seconds() {
				return FlagError("invalid --seconds %g: want more than 0 and at most %g", seconds, cgroup.MaxBurn.Seconds())
			}
			return run(&stressOptions{IO: f.IO, Kind: "cpu", Seconds: time.Duration(seconds * float64(time.Second))})
		},
	}
	cpu.Flags().Float64Var(&seconds, "seconds", 5, "how long to spin")
	var maxForks int
	fork := &cobra.Command{
		Use:   "fork",
		Short: "Fork idle children until fork fails or --max is reached, then kill them",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if maxForks < 1 || maxForks > cgroup.MaxForks {
				return FlagError("invalid --max %d: want 1 to %d", maxForks, cgroup.MaxForks)
			}
			return run(&stressOptions{IO: f.IO, Kind: "fork", Max: maxForks})
		},
	}
	fork.Flags().IntVar(&maxForks, "max", 100, "most children to fork")
	cmd.AddCommand(mem, cpu, fork)
	return cmd
}

// parseSize reads "100M", "512k", "1G" or a number of bytes.
func parseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSuffix(strings.TrimSuffix(strings.TrimSpace(s), "B"), "i"))
	mult := int64(1)
	switch {
	case strings.HasSuffix(t, "K"):
		mult, t = 1<<10, strings.TrimSuffix(t, "K")
	case strings.HasSuffix(t, "M"):
		mult, t = 1<<20, strings.TrimSuffix(t, "M")
	case strings.HasSuffix(t, "G"):
		mult, t = 1<<30, strings.TrimSuffix(t, "G")
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 {
		return 0, FlagError("invalid size %q: use a number with an optional K, M or G suffix, for example 100M", s)
	}
	if n > cgroup.MaxAlloc/mult {
		return 0, FlagError("invalid size %q: at most 1G", s)
	}
	return n * mult, nil
}

func runStress(opts *stressOptions) error {
	out := opts.IO.Out
	switch opts.Kind {
	case "mem":
		next := int64(16 << 20)
		_, err := cgroup.AllocMemory(opts.Size, func(touched int64) {
			if touched >= next {
				fmt.Fprintf(out, "touched %d MiB\n", touched>>20)
				next += 16 << 20
			}
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "touched all %d MiB: not killed (the group's limit, if any, is higher, or it can swap)\n", opts.Size>>20)
		if opts.Hold > 0 {
			fmt.Fprintf(out, "holding it for %s\n", opts.Hold)
			time.Sleep(opts.Hold)
		}
	case "cpu":
		start := time.Now()
		used, err := cgroup.BurnCPU(opts.Seconds)
		if err != nil {
			return err
		}
		wall := time.Since(start)
		fmt.Fprintf(out, "spun for %s and got %s of CPU: %.0f%% of one CPU\n",
			wall.Round(10*time.Millisecond), used.Round(10*time.Millisecond), 100*used.Seconds()/wall.Seconds())
	case "fork":
		res, err := cgroup.ForkBomb(opts.Max)
		if err != nil {
			return err
		}
		if res.Refused {
			fmt.Fprintf(out, "forked %d children (this process has %d threads), then fork failed: %s; all killed\n",
				res.Forked, res.Tasks, res.Errno)
		} else {
			fmt.Fprintf(out, "forked all %d children, no fork failed; all killed\n", res.Forked)
		}
	}
	return nil
}
