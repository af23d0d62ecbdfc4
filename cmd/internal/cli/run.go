package cli

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/lab-edu/lab/kernel/cnet"
	"github.com/lab-edu/lab/kernel/container"
)

// runOptions are the flags of `lab run` and `lab container create`, as
// docker run spells them.
type runOptions struct {
	f           *Factory
	Image       string
	Cmd         []string
	Detach      bool
	Remove      bool
	Interactive bool
	TTY         bool
	Name        string
	Hostname    string
	Env         []string
	Workdir     string
	User        string
	Memory      string
	CPUs        float64
	PidsLimit   int64
	CapAdd      []string
	CapDrop     []string
	ReadOnly    bool
	Net         string
	Ports       []string
	Volumes     []string
	VolumesFrom []string
	CgroupNS    bool
	UserNS      string
}

func cmdRun(f *Factory) *cobra.Command { return newCmdRun(f, nil) }

func newCmdRun(f *Factory, runF func(*runOptions) error) *cobra.Command {
	opts := &runOptions{f: f}
	cmd := &cobra.Command{
		Use:   "run [flags] IMAGE [COMMAND [ARG...]]",
		Short: "Run a command in a new container (the mini-Docker)",
		Long: `Run COMMAND in a new container made from IMAGE, like docker run: new pid, uts,
mount, ipc and network namespaces, an overlay of the image's layers as its root,
a cgroup with the limits asked for, Docker's default capabilities and
no_new_privs. Without -d it runs in the foreground and lab exits with the
command's exit code; errors of the engine itself exit 125, a command that
cannot run 126, one that does not exist 127.`,
		Example: `  sudo lab run --rm busybox echo hello
  sudo lab run --rm -it busybox sh
  sudo lab run -d --name web -p 8080:80 busybox httpd -f -p 80
  sudo lab run --rm --memory 32m --pids-limit 20 --cap-drop ALL busybox sh -c 'id'`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Image, opts.Cmd = args[0], args[1:]
			if runF != nil {
				return runF(opts)
			}
			return runRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().SetInterspersed(false) // flags after IMAGE belong to COMMAND
	addRunFlags(cmd, opts)
	cmd.Flags().BoolVarP(&opts.Detach, "detach", "d", false, "run in the background and print the container ID")
	cmd.Flags().BoolVar(&opts.Remove, "rm", false, "remove the container when it exits")
	return cmd
}

// addRunFlags adds the flags run and create share.
func addRunFlags(cmd *cobra.Command, opts *runOptions) {
	fl := cmd.Flags()
	fl.BoolVarP(&opts.Interactive, "interactive", "i", false, "keep stdin open")
	fl.BoolVarP(&opts.TTY, "tty", "t", false, "give the command a pseudo-terminal")
	fl.StringVar(&opts.Name, "name", "", "name the container")
	fl.StringVarP(&opts.Hostname, "hostname", "h", "", "the container's host name (default: its short ID)")
	fl.StringArrayVarP(&opts.Env, "env", "e", nil, "set an environment variable KEY=VALUE")
	fl.StringVarP(&opts.Workdir, "workdir", "w", "", "working directory inside the container")
	fl.StringVarP(&opts.User, "user", "u", "", "run as UID[:GID] (or a name of the image's /etc/passwd)")
	fl.StringVarP(&opts.Memory, "memory", "m", "", "memory limit, like 64m or 1g")
	fl.Float64Var(&opts.CPUs, "cpus", 0, "CPU limit in CPUs, like 0.5")
	fl.Int64Var(&opts.PidsLimit, "pids-limit", 0, "maximum number of processes")
	fl.StringArrayVar(&opts.CapAdd, "cap-add", nil, "add a capability (NET_ADMIN, ALL)")
	fl.StringArrayVar(&opts.CapDrop, "cap-drop", nil, "drop a capability (NET_RAW, ALL)")
	fl.BoolVar(&opts.ReadOnly, "read-only", false, "mount the root file system read-only")
	fl.StringVar(&opts.Net, "net", "bridge", "network: bridge, none or host")
	fl.StringArrayVarP(&opts.Ports, "publish", "p", nil, "publish a port HOST:CTR[/tcp|udp]")
	fl.StringArrayVarP(&opts.Volumes, "volume", "v", nil, "bind mount a host path SRC:DST[:ro]")
	fl.StringArrayVar(&opts.VolumesFrom, "volumes-from", nil, "mount the volumes of another container")
	fl.BoolVar(&opts.CgroupNS, "cgroupns", false, "give the container its own cgroup namespace")
	fl.StringVar(&opts.UserNS, "userns", "host", "user namespace: host, or private (root inside is uid 100000 outside)")
	// -h is docker's --hostname; help stays reachable as --help.
	fl.BoolP("help", "", false, "help for "+cmd.Name())
}

// spec checks the options and turns them into a container.Spec. A bad
// value is an engine error (125), as in docker.
func (o *runOptions) spec() (container.Spec, error) {
	s := container.Spec{Image: o.Image, Cmd: o.Cmd, Env: o.Env, Workdir: o.Workdir, User: o.User,
		Hostname: o.Hostname, Name: o.Name, CPUs: o.CPUs, PidsLimit: o.PidsLimit,
		CapAdd: o.CapAdd, CapDrop: o.CapDrop, ReadOnly: o.ReadOnly, VolumesFrom: o.VolumesFrom,
		Detach: o.Detach, Remove: o.Remove, TTY: o.TTY, Interactive: o.Interactive, CgroupNS: o.CgroupNS}
	bad := func(err error) (container.Spec, error) {
		return container.Spec{}, &ExitError{Code: container.ExitEngine, Err: err}
	}
	if o.Memory != "" {
		m, err := container.ParseMemory(o.Memory)
		if err != nil {
			return bad(err)
		}
		s.Memory = m
	}
	switch o.UserNS {
	case "host":
	case "private":
		s.UserNS = true
	default:
		return bad(fmt.Errorf("--userns %q: want host or private", o.UserNS))
	}
	if o.CPUs < 0 {
		return bad(fmt.Errorf("--cpus %v: want a positive number of CPUs like 0.5", o.CPUs))
	}
	if o.PidsLimit < 0 {
		return bad(fmt.Errorf("--pids-limit %d: want a positive number", o.PidsLimit))
	}
	net, err := cnet.ParseMode(o.Net)
	if err != nil {
		return bad(err)
	}
	s.Net = net
	for _, p := range o.Ports {
		port, err := cnet.ParsePort(p)
		if err != nil {
			return bad(err)
		}
		s.Ports = append(s.Ports, port)
	}
	for _, v := range o.Volumes {
		vol, err := container.ParseVolume(v)
		if err != nil {
			return bad(err)
		}
		s.Volumes = append(s.Volumes, vol)
	}
	return s, nil
}

func runRun(ctx context.Context, opts *runOptions) error {
	f := opts.f
	if err := requireRoot(f); err != nil {
		return err
	}
	spec, err := opts.spec()
	if err != nil {
		return err
	}
	if spec.Detach {
		c, err := container.Create(ctx, f.Root, spec)
		if err != nil {
			return containerError(err)
		}
		if err := c.Start(ctx); err != nil {
			return containerError(err)
		}
		fmt.Fprintln(f.IO.Out, c.ID)
		return nil
	}
	code, err := container.Run(ctx, f.Root, spec, container.Stdio{In: f.IO.In, Out: f.IO.Out, Err: f.IO.ErrOut})
	if err != nil {
		return containerError(err)
	}
	if code != 0 {
		return Silent(code)
	}
	return nil
}

// containerError gives a container error docker's exit code: the code of
// a *container.Error (125, 126, 127), 125 otherwise.
func containerError(err error) error {
	var ce *container.Error
	if errors.As(err, &ce) {
		return &ExitError{Code: ce.Code, Err: err}
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return err
	}
	if errors.Is(err, os.ErrPermission) {
		return EnvError("%v: run it with sudo", err)
	}
	return &ExitError{Code: container.ExitEngine, Err: err}
}
