package cli

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/lab-edu/lab/kernel/caps"
	"github.com/lab-edu/lab/kernel/procfs"
)

// capsShowOptions: the five capability sets of a process.
type capsShowOptions struct {
	IO   *IOStreams
	FS   fs.FS // the host's filesystem ("/")
	PID  int   // 0: lab itself
	JSON bool
}

// capsDecodeOptions: the names of a mask.
type capsDecodeOptions struct {
	IO   *IOStreams
	FS   fs.FS
	Mask string
	JSON bool
}

// capsShow is the JSON form of `lab caps show`.
type capsShow struct {
	PID        int          `json:"pid"`
	Comm       string       `json:"comm"`
	UID        [3]int       `json:"uid"`
	NoNewPrivs bool         `json:"no_new_privs"`
	LastCap    int          `json:"cap_last_cap"`
	Sets       []capsSetOut `json:"sets"`
	Caps       []capsRowOut `json:"capabilities"`
}

type capsSetOut struct {
	Name  string   `json:"name,omitempty"`
	Mask  string   `json:"mask"`
	Names []string `json:"names"`
}

type capsRowOut struct {
	Cap         int    `json:"cap"`
	Name        string `json:"name"`
	Effective   bool   `json:"effective"`
	Permitted   bool   `json:"permitted"`
	Inheritable bool   `json:"inheritable"`
	Bounding    bool   `json:"bounding"`
	Ambient     bool   `json:"ambient"`
}

func cmdCaps(f *Factory) *cobra.Command { return newCmdCaps(f, nil, nil) }

func newCmdCaps(f *Factory, showF func(*capsShowOptions) error, decodeF func(*capsDecodeOptions) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "caps",
		Short: "Show and decode capability sets, like capsh",
	}
	show := &capsShowOptions{IO: f.IO, FS: os.DirFS("/")}
	showCmd := &cobra.Command{
		Use:   "show [PID]",
		Short: "The five capability sets of a process, one capability per line",
		Long: `Show which capabilities process PID (default: lab itself) holds in each of
its five sets, read from /proc/PID/status, for every capability the running
kernel knows (/proc/sys/kernel/cap_last_cap).`,
		Example: `  lab caps show $$        # this shell
  lab caps show 1 --json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				pid, err := strconv.Atoi(args[0])
				if err != nil || pid <= 0 {
					return FlagError("invalid PID %q: give a process id, like $$ for this shell", args[0])
				}
				show.PID = pid
			}
			if showF != nil {
				return showF(show)
			}
			return runCapsShow(show)
		},
	}
	showCmd.Flags().BoolVar(&show.JSON, "json", false, "print as JSON")
	decode := &capsDecodeOptions{IO: f.IO, FS: os.DirFS("/")}
	decodeCmd := &cobra.Command{
		Use:   "decode MASK",
		Short: "Name the capabilities of a hexadecimal mask, like capsh --decode",
		Example: `  lab caps decode 0000000000003000
  lab caps decode $(awk '/CapBnd/ {print $2}' /proc/$$/status)`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			decode.Mask = args[0]
			if decodeF != nil {
				return decodeF(decode)
			}
			return runCapsDecode(decode)
		},
	}
	decodeCmd.Flags().BoolVar(&decode.JSON, "json", false, "print as JSON")
	cmd.AddCommand(showCmd, decodeCmd)
	return cmd
}

func runCapsShow(opts *capsShowOptions) error {
	pid := opts.PID
	if pid == 0 {
		pid = os.Getpid()
	}
	st, err := procfs.ReadStatus(opts.FS, pid)
	if err != nil {
		return FlagError("no process %d (/proc/%d/status: %v): give a running PID", pid, pid, err)
	}
	last, err := caps.LastCap(opts.FS)
	if err != nil {
		return EnvError("%v", err)
	}
	c := caps.CredsFromStatus(st)
	out := capsShow{PID: pid, Comm: st.Name, UID: c.UID, NoNewPrivs: c.NoNewPrivs, LastCap: int(last)}
	for i, set := range c.Sets.List() {
		names := set.Names()
		if names == nil {
			names = []string{}
		}
		out.Sets = append(out.Sets, capsSetOut{Name: caps.SetNames[i], Mask: set.Hex(), Names: names})
	}
	for _, r := range c.Sets.Rows(last) {
		out.Caps = append(out.Caps, capsRowOut{Cap: int(r.Cap), Name: r.Name, Effective: r.Effective,
			Permitted: r.Permitted, Inheritable: r.Inheritable, Bounding: r.Bounding, Ambient: r.Ambient})
	}
	if opts.JSON {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	printCapsShow(opts.IO, out)
	return nil
}

func printCapsShow(io *IOStreams, out capsShow) {
	fmt.Fprintf(io.Out, "process %d (%s), uid %d, no_new_privs %t, capabilities 0-%d\n",
		out.PID, out.Comm, out.UID[1], out.NoNewPrivs, out.LastCap)
	w := tabwriter.NewWriter(io.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "CAPABILITY\tEFFECTIVE\tPERMITTED\tINHERITABLE\tBOUNDING\tAMBIENT")
	mark := func(b bool) string {
		if b {
			return "yes"
		}
		return "-"
	}
	for _, r := range out.Caps {
		fmt.Fprintf(w, "%s (%d)\t%s\t%s\t%s\t%s\t%s\n", r.Name, r.Cap,
			mark(r.Effective), mark(r.Permitted), mark(r.Inheritable), mark(r.Bounding), mark(r.Ambient))
	}
	w.Flush()
	for _, s := range out.Sets {
		fmt.Fprintf(io.Out, "%-12s %s\n", s.Name, s.Mask)
	}
}

func runCapsDecode(opts *capsDecodeOptions) error {
	set, err := caps.ParseMask(opts.Mask)
	if err != nil {
		return FlagError("invalid mask %q: give up to 16 hexadecimal digits, as in /proc/PID/status (like 0000000000003000)", opts.Mask)
	}
	if opts.JSON {
		names := set.Names()
		if names == nil {
			names = []string{}
		}
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(capsSetOut{Mask: set.Hex(), Names: names})
	}
	fmt.Fprintln(opts.IO.Out, set.Decode())
	if last, err := caps.LastCap(opts.FS); err == nil {
		if beyond := set &^ caps.Full(last); beyond != 0 {
			fmt.Fprintf(opts.IO.ErrOut, "note: %s: beyond this kernel's last capability (%d)\n", beyond, last)
		}
	}
	return nil
}
