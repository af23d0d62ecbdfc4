package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/lab-edu/lab/kernel/ns"
	"github.com/lab-edu/lab/kernel/procfs"
)

// nsLsOptions: the namespaces of the machine, or of one process.
type nsLsOptions struct {
	IO    *IOStreams
	FS    fs.FS // the host's filesystem ("/")
	PID   int   // 0: every namespace, like lsns
	Types []string
	JSON  bool
}

// nsDiffOptions: which namespaces two processes share.
type nsDiffOptions struct {
	IO   *IOStreams
	FS   fs.FS
	A, B int
	JSON bool
}

// nsLsJSON has lsns -J's shape, so the two can be compared.
type nsLsJSON struct {
	Namespaces []nsRow `json:"namespaces"`
}

type nsRow struct {
	NS      uint64 `json:"ns"`
	Type    string `json:"type"`
	NProcs  int    `json:"nprocs"`
	PID     int    `json:"pid"`
	User    string `json:"user"`
	Command string `json:"command"`
	Host    *bool  `json:"host,omitempty"` // with --pid: is it the host's namespace
}

type nsDiffRow struct {
	Type string `json:"type"`
	A    uint64 `json:"a"`
	B    uint64 `json:"b"`
	Same bool   `json:"same"`
}

func cmdNs(f *Factory) *cobra.Command { return newCmdNs(f, nil, nil) }

func newCmdNs(f *Factory, lsF func(*nsLsOptions) error, diffF func(*nsDiffOptions) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ns",
		Short: "Look at namespaces: list them like lsns, compare two processes",
	}
	cmd.AddCommand(newCmdNsLs(f, lsF), newCmdNsDiff(f, diffF))
	return cmd
}

func newCmdNsLs(f *Factory, runF func(*nsLsOptions) error) *cobra.Command {
	opts := &nsLsOptions{IO: f.IO, FS: os.DirFS("/")}
	cmd := &cobra.Command{
		Use:   "ls",
		Short: "List namespaces: kind, inode, processes, lowest PID, user, command (like lsns)",
		Long: "Without --pid, list every namespace that some process is in, as lsns(8) does.\n" +
			"With --pid, list the namespaces of that process (the links in /proc/PID/ns)\n" +
			"and say which are the host's.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.PID < 0 {
				return FlagError("--pid %d is not a process ID: give a positive number, for example --pid $$", opts.PID)
			}
			for _, t := range opts.Types {
				if _, err := ns.ParseKind(t); err != nil {
					return FlagError("--type %q is not a namespace kind: use mnt, uts, ipc, pid, net, user, cgroup or time", t)
				}
			}
			if runF != nil {
				return runF(opts)
			}
			return runNsLs(opts)
		},
	}
	cmd.Flags().IntVar(&opts.PID, "pid", 0, "list the namespaces of this process")
	cmd.Flags().StringSliceVarP(&opts.Types, "type", "t", nil, "only these kinds (mnt, uts, ipc, pid, net, user, cgroup, time)")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON (lsns -J's shape)")
	return cmd
}

func newCmdNsDiff(f *Factory, runF func(*nsDiffOptions) error) *cobra.Command {
	opts := &nsDiffOptions{IO: f.IO, FS: os.DirFS("/")}
	cmd := &cobra.Command{
		Use:   "diff PID1 PID2",
		Short: "Show which namespaces two processes share and which differ",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			for i, dst := range []*int{&opts.A, &opts.B} {
				n, err := strconv.Atoi(args[i])
				if err != nil || n <= 0 {
					return FlagError("%q is not a process ID: give two PIDs, for example lab ns diff 1 $$", args[i])
				}
				*dst = n
			}
			if runF != nil {
				return runF(opts)
			}
			return runNsDiff(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON")
	return cmd
}

func kindsOf(types []string) []ns.Kind {
	var kinds []ns.Kind
	for _, t := range types {
		if k, err := ns.ParseKind(t); err == nil {
			kinds = append(kinds, k)
		}
	}
	if len(kinds) == 0 {
		return ns.Kinds
	}
	return kinds
}

// procError turns a failure to read a process into the right exit code.
func procError(pid int, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return FlagError("no process %d: see ps -e or lsns for the running ones", pid)
	}
	if errors.Is(err, fs.ErrPermission) {
		return EnvError("read the namespaces of process %d: %v: run it with sudo", pid, err)
	}
	return err
}

func runNsLs(opts *nsLsOptions) error {
	kinds := kindsOf(opts.Types)
	var rows []nsRow
	if opts.PID == 0 {
		list, err := ns.List(opts.FS, kinds...)
		if err != nil {
			return err
		}
		for _, n := range list {
			rows = append(rows, nsRow{NS: n.Inode, Type: string(n.Kind), NProcs: n.NProcs, PID: n.PID, User: n.User, Command: n.Command})
		}
	} else {
		if _, err := procfs.Comm(opts.FS, opts.PID); err != nil {
			return procError(opts.PID, err)
		}
		list, err := ns.List(opts.FS, kinds...)
		if err != nil {
			return err
		}
		for _, k := range kinds {
			id, err := ns.Of(opts.FS, opts.PID, k)
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					continue // a kind this kernel does not have
				}
				return procError(opts.PID, err)
			}
			host, herr := ns.Host(opts.FS, k)
			isHost := herr == nil && host.Equal(id)
			row := nsRow{NS: id.Inode, Type: string(k), Host: &isHost}
			for _, n := range list {
				if n.ID.Equal(id) {
					row.NProcs, row.PID, row.User, row.Command = n.NProcs, n.PID, n.User, n.Command
				}
			}
			rows = append(rows, row)
		}
	}
	if opts.JSON {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(nsLsJSON{Namespaces: rows})
	}
	tw := tabwriter.NewWriter(opts.IO.Out, 0, 4, 2, ' ', 0)
	if opts.PID != 0 {
		fmt.Fprintf(tw, "NS\tTYPE\tHOST?\tNPROCS\tPID\tUSER\tCOMMAND\n")
		for _, r := range rows {
			where := "own"
			if r.Host != nil && *r.Host {
				where = "host"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%d\t%s\t%s\n", r.NS, r.Type, where, r.NProcs, r.PID, r.User, shorten(r.Command))
		}
		return tw.Flush()
	}
	fmt.Fprintf(tw, "NS\tTYPE\tNPROCS\tPID\tUSER\tCOMMAND\n")
	for _, r := range rows {
		fmt.Fprintf(tw, "%d\t%s\t%d\t%d\t%s\t%s\n", r.NS, r.Type, r.NProcs, r.PID, r.User, shorten(r.Command))
	}
	return tw.Flush()
}

func runNsDiff(opts *nsDiffOptions) error {
	var rows []nsDiffRow
	for _, k := range ns.Kinds {
		a, err := ns.Of(opts.FS, opts.A, k)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				if _, cerr := procfs.Comm(opts.FS, opts.A); cerr != nil {
					return procError(opts.A, cerr)
				}
				continue
			}
			return procError(opts.A, err)
		}
		b, err := ns.Of(opts.FS, opts.B, k)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				if _, cerr := procfs.Comm(opts.FS, opts.B); cerr != nil {
					return procError(opts.B, cerr)
				}
				continue
			}
			return procError(opts.B, err)
		}
		rows = append(rows, nsDiffRow{Type: string(k), A: a.Inode, B: b.Inode, Same: a.Equal(b)})
	}
	if opts.JSON {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	commA, _ := procfs.Comm(opts.FS, opts.A)
	commB, _ := procfs.Comm(opts.FS, opts.B)
	tw := tabwriter.NewWriter(opts.IO.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "TYPE\tPID %d (%s)\tPID %d (%s)\tSHARED\n", opts.A, commA, opts.B, commB)
	for _, r := range rows {
		verdict := "same"
		if !r.Same {
			verdict = "different"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", r.Type, r.A, r.B, verdict)
	}
	return tw.Flush()
}

// shorten keeps a command line to one screen line in tables (--json has
// it whole).
func shorten(cmd string) string {
	const max = 72
	if r := []rune(cmd); len(r) > max {
		return string(r[:max-1]) + "…"
	}
	return cmd
}
