package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/lab-edu/lab/kernel/cnet"
	"github.com/lab-edu/lab/kernel/container"
)

// containerCommands are added to `lab container` by other files (diff,
// commit, export) from an init function, so each lives in its own file.
var containerCommands []func(*Factory) *cobra.Command

// lab reset --all removes every container too (lab container prune --all),
// then the lab0 bridge and its shared NAT rules once no container of any
// state directory is plugged into it.
func init() {
	resetAllHooks = append(resetAllHooks, func(ctx context.Context, f *Factory) error {
		_, err := container.Prune(ctx, f.Root, true)
		if err == nil {
			_, err = cnet.Teardown(ctx)
		}
		if errors.Is(err, fs.ErrPermission) {
			return nil // without root there are no containers or lab0 of ours
		}
		return err
	})
}

// newCmdContainer is `lab container`, docker's management command for
// containers.
func newCmdContainer(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "container",
		Aliases: []string{"ctr"},
		Short:   "Manage the mini-Docker's containers (create, start, ps, logs, exec, stop, rm, ...)",
		Long: `Manage the containers of lab's mini-Docker. Each container's state is a
directory under the state directory (` + DefaultRoot + `/containers/<id>): config.json,
state.json, ctr.log and the overlay's upper/ and work/. Errors exit with
docker's code 125.`,
	}
	cmd.AddCommand(newCmdContainerCreate(f), newCmdContainerStart(f), newCmdPs(f, "ls"), newCmdLogs(f),
		newCmdExec(f), newCmdStop(f), newCmdKill(f), newCmdRm(f), newCmdInspect(f), newCmdStats(f),
		newCmdPause(f, true), newCmdPause(f, false), newCmdTop(f), newCmdPrune(f))
	for _, add := range containerCommands {
		cmd.AddCommand(add(f))
	}
	return cmd
}

// Docker's top-level short forms (lab ps, lab exec...) of the container
// commands whose names no lab verb uses (lab start is a lab verb).
func cmdPs(f *Factory) *cobra.Command { return newCmdPs(f, "") }

// loadContainer finds ref (name, ID or ID prefix) in the state directory.
func loadContainer(f *Factory, ref string) (*container.Container, error) {
	if err := requireRoot(f); err != nil {
		return nil, err
	}
	c, err := container.Load(f.Root, ref)
	if err != nil {
		return nil, containerError(err)
	}
	return c, nil
}

// eachContainer runs fn on every ref, printing each name that succeeded,
// as docker stop/rm/kill do.
func eachContainer(f *Factory, refs []string, fn func(*container.Container) error) error {
	var failed error
	for _, ref := range refs {
		c, err := loadContainer(f, ref)
		if err == nil {
			err = fn(c)
		}
		if err != nil {
			fmt.Fprintf(f.IO.ErrOut, "lab: %v\n", err)
			failed = Silent(container.ExitEngine)
			continue
		}
		fmt.Fprintln(f.IO.Out, ref)
	}
	return failed
}

// --- create, start

func newCmdContainerCreate(f *Factory) *cobra.Command {
	opts := &runOptions{f: f}
	cmd := &cobra.Command{
		Use:   "create [flags] IMAGE [COMMAND [ARG...]]",
		Short: "Create a container without starting it (start it with lab container start)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Image, opts.Cmd = args[0], args[1:]
			if err := requireRoot(f); err != nil {
				return err
			}
			spec, err := opts.spec()
			if err != nil {
				return err
			}
			c, err := container.Create(cmd.Context(), f.Root, spec)
			if err != nil {
				return containerError(err)
			}
			fmt.Fprintln(f.IO.Out, c.ID)
			return nil
		},
	}
	cmd.Flags().SetInterspersed(false)
	addRunFlags(cmd, opts)
	cmd.Flags().BoolVar(&opts.Remove, "rm", false, "remove the container when it exits")
	return cmd
}

func newCmdContainerStart(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "start CONTAINER...",
		Short: "Start created or stopped containers in the background",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return eachContainer(f, args, func(c *container.Container) error { return c.Start(cmd.Context()) })
		},
	}
}

// --- ps

func newCmdPs(f *Factory, alias string) *cobra.Command {
	var all, quiet bool
	cmd := &cobra.Command{
		Use:   "ps",
		Short: "List containers (running ones; -a all)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireRoot(f); err != nil {
				return err
			}
			list, err := container.List(f.Root)
			if err != nil {
				return containerError(err)
			}
			w := tabwriter.NewWriter(f.IO.Out, 0, 4, 3, ' ', 0)
			if !quiet {
				fmt.Fprintln(w, "CONTAINER ID\tIMAGE\tCOMMAND\tCREATED\tSTATUS\tNAMES")
			}
			for _, c := range list {
				if !all && !c.IsRunning() {
					continue
				}
				if quiet {
					fmt.Fprintln(w, c.ShortID())
					continue
				}
				fmt.Fprintf(w, "%s\t%s\t%q\t%s ago\t%s\t%s\n", c.ShortID(), c.Spec.Image,
					truncate(strings.Join(c.Spec.Cmd, " "), 20), since(c.State.Created), status(c), c.Name)
			}
			return w.Flush()
		},
	}
	if alias != "" {
		cmd.Aliases = []string{alias, "list"}
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "show all containers, not only running ones")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "only print short IDs")
	return cmd
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

func since(t time.Time) string { return time.Since(t).Round(time.Second).String() }

// status is docker ps's STATUS column.
func status(c *container.Container) string {
	switch {
	case c.IsRunning() && c.State.Status == container.Paused:
		return "Up " + since(c.State.Started) + " (Paused)"
	case c.IsRunning():
		return "Up " + since(c.State.Started)
	case c.State.Status == container.Created:
		return "Created"
	case c.State.Status == container.Running || c.State.Status == container.Paused:
		return "Dead (its supervisor is gone: lab container prune cleans up)"
	default:
		return fmt.Sprintf("Exited (%d) %s ago", c.State.ExitCode, since(c.State.Finished))
	}
}

// --- logs, exec

func newCmdLogs(f *Factory) *cobra.Command {
	var follow bool
	cmd := &cobra.Command{
		Use:   "logs [-f] CONTAINER",
		Short: "Print what a detached container wrote to stdout and stderr",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := loadContainer(f, args[0])
			if err != nil {
				return err
			}
			return containerError(c.Logs(cmd.Context(), f.IO.Out, follow))
		},
	}
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing until the container exits")
	return cmd
}

func newCmdExec(f *Factory) *cobra.Command {
	var spec container.ExecSpec
	var interactive bool
	cmd := &cobra.Command{
		Use:   "exec [-it] CONTAINER COMMAND [ARG...]",
		Short: "Run a command in a running container",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := loadContainer(f, args[0])
			if err != nil {
				return err
			}
			spec.Cmd = args[1:]
			stdio := container.Stdio{Out: f.IO.Out, Err: f.IO.ErrOut}
			if interactive {
				stdio.In = f.IO.In
			}
			code, err := c.Exec(cmd.Context(), spec, stdio)
			if err != nil {
				return containerError(err)
			}
			if code != 0 {
				return Silent(code)
			}
			return nil
		},
	}
	cmd.Flags().SetInterspersed(false)
	cmd.Flags().BoolVarP(&interactive, "interactive", "i", false, "keep stdin open")
	cmd.Flags().BoolVarP(&spec.TTY, "tty", "t", false, "give the command a pseudo-terminal")
	cmd.Flags().StringArrayVarP(&spec.Env, "env", "e", nil, "set an environment variable KEY=VALUE")
	cmd.Flags().StringVarP(&spec.Workdir, "workdir", "w", "", "working directory")
	cmd.Flags().StringVarP(&spec.User, "user", "u", "", "run as UID[:GID]")
	return cmd
}

// --- stop, kill, rm

func newCmdStop(f *Factory) *cobra.Command {
	var seconds int
	cmd := &cobra.Command{
		Use:   "stop [-t SECONDS] CONTAINER...",
		Short: "Stop containers: SIGTERM, then SIGKILL after the timeout",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return eachContainer(f, args, func(c *container.Container) error {
				return c.Stop(cmd.Context(), time.Duration(seconds)*time.Second)
			})
		},
	}
	cmd.Flags().IntVarP(&seconds, "time", "t", 10, "seconds to wait before SIGKILL")
	return cmd
}

func newCmdKill(f *Factory) *cobra.Command {
	var sig string
	cmd := &cobra.Command{
		Use:   "kill [-s SIGNAL] CONTAINER...",
		Short: "Send a signal (default SIGKILL) to containers' PID 1",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := container.ParseSignal(sig)
			if err != nil {
				return &ExitError{Code: container.ExitEngine, Err: err}
			}
			return eachContainer(f, args, func(c *container.Container) error { return c.Kill(s) })
		},
	}
	cmd.Flags().StringVarP(&sig, "signal", "s", "KILL", "signal to send")
	return cmd
}

func newCmdRm(f *Factory) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "rm [-f] CONTAINER...",
		Short: "Remove containers (-f: kill running ones first)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return eachContainer(f, args, func(c *container.Container) error { return c.Remove(cmd.Context(), force) })
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "kill a running container before removing it")
	return cmd
}

// --- inspect, stats, pause, top

func newCmdInspect(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "inspect CONTAINER...",
		Short: "Print containers' state, pid, address, mounts, limits and capabilities as JSON",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var infos []container.Info
			for _, ref := range args {
				c, err := loadContainer(f, ref)
				if err != nil {
					return err
				}
				infos = append(infos, c.Inspect())
			}
			enc := json.NewEncoder(f.IO.Out)
			enc.SetIndent("", "  ")
			return enc.Encode(infos)
		},
	}
}

func newCmdStats(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "stats CONTAINER",
		Short: "Print a running container's cgroup counters (memory, CPU, pids)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := loadContainer(f, args[0])
			if err != nil {
				return err
			}
			st, err := c.Stats()
			if err != nil {
				return containerError(err)
			}
			w := tabwriter.NewWriter(f.IO.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintf(w, "%s (%s, cgroup %s)\n", c.Name, c.ShortID(), st.Version)
			for _, v := range st.Values {
				fmt.Fprintf(w, "  %s\t%v\n", v.File, v.Value)
			}
			fmt.Fprintf(w, "  processes\t%d\n", len(st.Procs))
			return w.Flush()
		},
	}
}

func newCmdPause(f *Factory, pause bool) *cobra.Command {
	use, short := "pause", "Freeze every process of containers (cgroup freezer)"
	if !pause {
		use, short = "unpause", "Thaw paused containers"
	}
	return &cobra.Command{
		Use:   use + " CONTAINER...",
		Short: short,
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return eachContainer(f, args, func(c *container.Container) error {
				if pause {
					return c.Pause()
				}
				return c.Unpause()
			})
		},
	}
}

func newCmdTop(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "top CONTAINER",
		Short: "List the processes of a container (its cgroup), with host PIDs",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := loadContainer(f, args[0])
			if err != nil {
				return err
			}
			procs, err := c.Top()
			if err != nil {
				return containerError(err)
			}
			w := tabwriter.NewWriter(f.IO.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "PID\tPPID\tUID\tSTATE\tCOMMAND")
			for _, p := range procs {
				fmt.Fprintf(w, "%d\t%d\t%d\t%s\t%s\n", p.PID, p.PPID, p.UID, p.State, p.Command)
			}
			return w.Flush()
		},
	}
}

// --- prune

func newCmdPrune(f *Factory) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "prune [--all]",
		Short: "Remove stopped containers and what crashed ones left (--all: every container)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireRoot(f); err != nil {
				return err
			}
			return pruneContainers(cmd.Context(), f, all)
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "also kill and remove running containers, orphaned lab-ctr cgroups, and the lab0 bridge once unused")
	return cmd
}

func pruneContainers(ctx context.Context, f *Factory, all bool) error {
	removed, err := container.Prune(ctx, f.Root, all)
	for _, name := range removed {
		fmt.Fprintln(f.IO.Out, "removed", name)
	}
	if err != nil {
		return containerError(err)
	}
	if all { // the bridge and its shared rules go once no container uses them
		if gone, err := cnet.Teardown(ctx); err != nil {
			return containerError(err)
		} else if gone {
			fmt.Fprintln(f.IO.Out, "removed the lab0 bridge")
		}
	}
	return nil
}
