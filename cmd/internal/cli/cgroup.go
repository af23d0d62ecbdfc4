package cli

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lab-edu/lab/kernel/cgroup"
	"github.com/lab-edu/lab/kernel/procfs"
)

// cgroupShowOptions: show a process's groups, or one group.
type cgroupShowOptions struct {
	IO     *IOStreams
	FS     fs.FS                            // the host's filesystem ("/")
	Detect func() (cgroup.Hierarchy, error) // cgroup.Detect, swappable in tests
	Target string                           // a PID or a group path
	JSON   bool
}

// cgroupShow is the JSON form of `lab cgroup show`.
type cgroupShow struct {
	PID         int                 `json:"pid,omitempty"`
	Version     string              `json:"version"`
	Memberships []cgroup.Membership `json:"memberships,omitempty"`
	Groups      []cgroup.Stats      `json:"groups"`
}

func cmdCgroup(f *Factory) *cobra.Command { return newCmdCgroup(f, nil) }

func newCmdCgroup(f *Factory, runF func(*cgroupShowOptions) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cgroup",
		Short: "Inspect control groups, in the file names of the cgroup version in use",
	}
	opts := &cgroupShowOptions{IO: f.IO, FS: os.DirFS("/"), Detect: cgroup.Detect}
	show := &cobra.Command{
		Use:   "show PID|GROUP",
		Short: "Which groups a process is in, or a group's limits and usage",
		Example: `  lab cgroup show $$          # the groups of this shell
  lab cgroup show lab-mem      # limits, usage and processes of lab-mem`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Target = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runCgroupShow(opts)
		},
	}
	show.Flags().BoolVar(&opts.JSON, "json", false, "print as JSON")
	cmd.AddCommand(show)
	return cmd
}

func runCgroupShow(opts *cgroupShowOptions) error {
	h, err := opts.Detect()
	if err != nil {
		return EnvError("%v", err)
	}
	out := cgroupShow{Version: h.Version.String()}
	if pid, err := strconv.Atoi(opts.Target); err == nil {
		if pid <= 0 {
			return FlagError("invalid PID %d: want a positive number", pid)
		}
		entries, err := procfs.ReadCgroup(opts.FS, pid)
		if err != nil {
			return FlagError("no process %d (/proc/%d/cgroup: %v): give a running PID or a group name", pid, pid, err)
		}
		out.PID = pid
		out.Memberships = h.GroupsOf(entries)
		// One entry per group path, with the controllers the process is in it by.
		byGroup := map[string][]string{}
		var order []string
		for _, m := range out.Memberships {
			if _, ok := byGroup[m.Group]; !ok {
				order = append(order, m.Group)
			}
			byGroup[m.Group] = append(byGroup[m.Group], m.Controller)
		}
		for _, g := range order {
			out.Groups = append(out.Groups, h.ReadStats(opts.FS, g, byGroup[g]...))
		}
	} else {
		group := "/" + strings.Trim(opts.Target, "/")
		if strings.Contains(group, "..") {
			return FlagError("invalid group %q: give a path below the cgroup root, like lab-mem", opts.Target)
		}
		st := h.ReadStats(opts.FS, group)
		if len(st.Values) == 0 && !h.Exists(opts.FS, cgroup.Memory, group) && !h.Exists(opts.FS, cgroup.Freezer, group) {
			return FlagError("no group %s in the %s hierarchies (%s): list them with ls %s",
				group, h.Version, h.Dir(cgroup.Memory, group), h.Dir(cgroup.Memory, ""))
		}
		out.Groups = []cgroup.Stats{st}
	}
	if opts.JSON {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	printCgroupShow(opts.IO, out)
	return nil
}

func printCgroupShow(io *IOStreams, out cgroupShow) {
	w := io.Out
	if out.PID != 0 {
		fmt.Fprintf(w, "process %d (%s):\n", out.PID, out.Version)
		for _, m := range out.Memberships {
			c := m.Controller
			if c == "" {
				c = "(unified)"
			}
			fmt.Fprintf(w, "  %-10s %s\n", c, m.Group)
		}
		fmt.Fprintln(w)
	}
	for i, g := range out.Groups {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "group %s (%s)\n", g.Group, g.Version)
		procs := "none"
		switch {
		case len(g.Procs) > 20:
			procs = fmt.Sprintf("%d processes (cat %s to list them)", len(g.Procs), "cgroup.procs")
		case len(g.Procs) > 0:
			s := make([]string, len(g.Procs))
			for j, p := range g.Procs {
				s[j] = strconv.Itoa(p)
			}
			procs = strings.Join(s, " ")
		}
		fmt.Fprintf(w, "  processes: %s\n", procs)
		width := 0
		for _, v := range g.Values {
			width = max(width, len(v.File))
		}
		for _, v := range g.Values {
			lines := strings.Split(v.Value, "\n")
			lines = slices.DeleteFunc(lines, func(s string) bool { return strings.TrimSpace(s) == "" })
			value := strings.Join(lines, ", ")
			if l, err := cgroup.ParseLimit(value); err == nil && l.Max && value != "max" && value != "-1" {
				value += " (no limit)" // v1 spells "no limit" as a huge number
			}
			fmt.Fprintf(w, "  %-*s  %s\n", width, v.File, value)
		}
	}
}
