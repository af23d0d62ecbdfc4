package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/lab-edu/lab/kernel/netdev"
	"github.com/lab-edu/lab/kernel/netns"
)

// netShowOptions: what one or every named network namespace holds.
type netShowOptions struct {
	IO    *IOStreams
	Euid  func() int
	Netns string // "" every named namespace; "host" the host's
	JSON  bool
	// Show and List read the kernel; tests swap them.
	Show    func(ns string) (netdev.State, error)
	List    func() ([]string, error)
	IsNetns func(name string) bool // a real namespace, not a plain file in /run/netns
}

func cmdNet(f *Factory) *cobra.Command { return newCmdNet(f, nil) }

func newCmdNet(f *Factory, runF func(*netShowOptions) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "net",
		Short: "Look at network namespaces: links, peers, addresses, routes",
	}
	opts := &netShowOptions{IO: f.IO, Euid: f.Euid, Show: netdev.Show, List: netns.List, IsNetns: isNetns}
	show := &cobra.Command{
		Use:   "show [NS]",
		Short: "What a network namespace holds: links with veth peers and state, addresses, routes",
		Long: `Show the links (with their veth peer and state), addresses and routes of the
named network namespace NS (a name of /run/netns, as ip netns list shows),
of the host's namespace with NS "host", or of every named namespace when
NS is omitted. lab reads them through a netlink socket opened inside the
namespace, as ip -n NS does.`,
		Example: `  sudo lab net show lab-red
  sudo lab net show host
  sudo lab net show --json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Netns = args[0]
				if opts.Netns != "host" {
					if err := netns.CheckName(opts.Netns); err != nil {
						return FlagError("invalid namespace name %q: give a name that ip netns list shows, or host", opts.Netns)
					}
				}
			}
			if runF != nil {
				return runF(opts)
			}
			return runNetShow(opts)
		},
	}
	show.Flags().BoolVar(&opts.JSON, "json", false, "print as JSON")
	cmd.AddCommand(show)
	return cmd
}

func runNetShow(opts *netShowOptions) error {
	if opts.Euid() != 0 {
		return EnvError("lab net show opens netlink sockets inside namespaces, which needs root: run it with sudo")
	}
	names, err := opts.List()
	if err != nil {
		return fmt.Errorf("list %s: %w", netns.Dir, err)
	}
	var targets []string
	switch {
	case opts.Netns == "host":
		targets = []string{""}
	case opts.Netns != "":
		if !slices.Contains(names, opts.Netns) {
			return FlagError("no network namespace %q in %s: ip netns list shows the names (or use host)", opts.Netns, netns.Dir)
		}
		if !opts.IsNetns(opts.Netns) {
			return FlagError("%s is not a network namespace (a plain file?): ip netns add makes real ones", netns.Path(opts.Netns))
		}
		targets = []string{opts.Netns}
	default:
		for _, n := range names {
			if opts.IsNetns(n) {
				targets = append(targets, n)
			}
		}
	}
	states := make([]netdev.State, 0, len(targets))
	for _, ns := range targets {
		st, err := opts.Show(ns)
		if errors.Is(err, fs.ErrNotExist) && opts.Netns == "" {
			continue // deleted while we read
		}
		if err != nil {
			return fmt.Errorf("show %s: %w", nsTitle(ns), err)
		}
		states = append(states, st)
	}
	if opts.JSON {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		if opts.Netns != "" && len(states) == 1 {
			return enc.Encode(states[0])
		}
		return enc.Encode(states)
	}
	if len(states) == 0 {
		fmt.Fprintln(opts.IO.Out, "no named network namespace (ip netns add NAME makes one); lab net show host shows the host's")
		return nil
	}
	for i, st := range states {
		if i > 0 {
			fmt.Fprintln(opts.IO.Out)
		}
		renderNetState(opts.IO.Out, st)
	}
	return nil
}

func isNetns(name string) bool {
	ok, err := netns.IsNetns(netns.Path(name))
	return err == nil && ok
}

func nsTitle(ns string) string {
	if ns == "" {
		return "host network namespace"
	}
	return "netns " + ns
}

// renderNetState prints a namespace like a compact `ip -br address` plus
// `ip route`, with each veth's peer spelled out.
func renderNetState(w io.Writer, st netdev.State) {
	fmt.Fprintln(w, nsTitle(st.Netns))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  LINK\tTYPE\tSTATE\tPEER / MASTER\tADDRESSES")
	for _, l := range st.Links {
		state := "DOWN"
		if l.Up {
			state = "UP (" + l.OperState + ")"
		}
		var rel []string
		if p, ok := st.Peers[l.Name]; ok {
			if p.Known {
				where := "host"
				if p.Netns != "" {
					where = p.Netns
				}
				rel = append(rel, "peer "+p.Name+" in "+where)
			} else {
				rel = append(rel, fmt.Sprintf("peer ifindex %d in an unnamed netns", p.Index))
			}
		}
		if l.Master != "" {
			rel = append(rel, "master "+l.Master)
		}
		addrs := make([]string, 0, len(l.Addrs))
		for _, a := range l.Addrs {
			addrs = append(addrs, a.String())
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", l.Name, l.Type, state, dash(strings.Join(rel, ", ")), dash(strings.Join(addrs, " ")))
	}
	tw.Flush()
	fmt.Fprintln(w, "  routes:")
	if len(st.Routes) == 0 {
		fmt.Fprintln(w, "    (none)")
	}
	for _, r := range st.Routes {
		fmt.Fprintln(w, "    "+r.String())
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
