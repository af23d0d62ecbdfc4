package nslab

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/kernel/ns"
	"github.com/lab-edu/lab/steps"
)

// The names of the uts lab: the hostname and NIS domain name the student
// gives the namespace.
const (
	UTSHostname = "lab-uts"
	UTSDomain   = "lab-nis"
)

// readUTS reads what a process's UTS namespace reports; tests swap it to
// play a host whose name was changed, which the real tests must never do.
var readUTS = ns.UTSNames

// UTSSteps are the uts lab's steps, in order.
var UTSSteps = []steps.Step{UTSHostnameStep, UTSInspect, UTSDomainname}

// UTSHostnameStep: a process in a new UTS namespace named lab-uts.
var UTSHostnameStep = steps.Step{
	ID:      "uts/hostname",
	Title:   "A hostname only the namespace sees",
	Check:   checkUTSHostname,
	Solve:   solveUTSHostname,
	Cleanup: cleanupUTS,
}

// utsNamespace is a non-host UTS namespace and what it reports.
type utsNamespace struct {
	ID    ns.ID
	Proc  proc // its lowest process
	Names ns.Names
}

// utsNamespaces lists the UTS namespaces other than the host's, with the
// names each reports, and the host's names.
func utsNamespaces(fsys fs.FS) (host ns.Names, others []utsNamespace, err error) {
	hostPID := ns.HostPID(fsys)
	host, err = readUTS(hostPID)
	if err != nil {
		return host, nil, fmt.Errorf("read the host's hostname: %w", err)
	}
	hostID, err := ns.Host(fsys, ns.UTS)
	if err != nil {
		return host, nil, err
	}
	all, err := ns.List(fsys, ns.UTS)
	if err != nil {
		return host, nil, err
	}
	for _, n := range all {
		if n.ID.Equal(hostID) {
			continue
		}
		names, err := readUTS(n.PID)
		if err != nil {
			continue // the process just exited
		}
		others = append(others, utsNamespace{ID: n.ID, Proc: proc{PID: n.PID, Comm: firstWord(n.Command)}, Names: names})
	}
	return host, others, nil
}

func firstWord(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return s
	}
	return f[0]
}

// labUTS returns the namespaces whose hostname is lab-uts.
func labUTS(others []utsNamespace) []utsNamespace {
	var out []utsNamespace
	for _, n := range others {
		if n.Names.Hostname == UTSHostname {
			out = append(out, n)
		}
	}
	return out
}

func checkUTSHostname(ctx context.Context, h checker.Host) checker.Result {
	const name = "a UTS namespace with hostname " + UTSHostname
	host, others, err := utsNamespaces(h.FS())
	if err != nil {
		return checker.Errored(name, err)
	}
	if host.Hostname == UTSHostname {
		return checker.Failed(name,
			"the host's own hostname is "+UTSHostname+": hostname ran outside a new UTS namespace, so every process on the machine sees it",
			"put the host's name back (hostname $(cat /etc/hostname)), then run hostname inside `unshare --uts`")
	}
	if found := labUTS(others); len(found) > 0 {
		n := found[0]
		return checker.Passed(name,
			fmt.Sprintf("%s is in %s, whose hostname is %s", n.Proc, n.ID, n.Names.Hostname),
			"the host's hostname is still "+host.Hostname)
	}
	if len(others) == 0 {
		return checker.Failed(name,
			"every process is in the host's UTS namespace: no process has a hostname of its own",
			"start a shell in a new UTS namespace: sudo unshare --uts bash, then hostname "+UTSHostname+" in it")
	}
	var seen []string
	for i, n := range others {
		if i == 3 {
			seen = append(seen, fmt.Sprintf("and %d more", len(others)-3))
			break
		}
		seen = append(seen, fmt.Sprintf("%s (%s: %q)", n.ID, n.Proc, n.Names.Hostname))
	}
	return checker.Mismatch(name,
		"a UTS namespace whose hostname is "+UTSHostname,
		"UTS namespaces "+strings.Join(seen, ", "),
		"inside your `unshare --uts` shell, run hostname "+UTSHostname)
}

// solveUTSHostname starts a detached holder in a new UTS namespace that
// names it lab-uts, unless one is already there.
func solveUTSHostname(ctx context.Context, env *steps.Env) error {
	_, others, err := utsNamespaces(env.Host.FS())
	if err != nil {
		return err
	}
	if len(labUTS(others)) > 0 {
		return nil
	}
	cmd := ns.HoldCommand(ns.Spec{New: []ns.Kind{ns.UTS}}, ns.HoldOptions{Hostname: UTSHostname})
	cmd.Dir = env.Dir
	pid, err := ns.StartDetached(cmd)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Log, "started PID %d in a new UTS namespace with hostname %s\n", pid, UTSHostname)
	return waitFor(ctx, func() bool {
		names, err := readUTS(pid)
		return err == nil && names.Hostname == UTSHostname
	})
}

// cleanupUTS kills every process in a UTS namespace named lab-uts: the
// namespace goes away with its last process.
func cleanupUTS(ctx context.Context, env *steps.Env) error {
	_, others, err := utsNamespaces(env.Host.FS())
	if err != nil {
		return err
	}
	errs := []error{ns.UnbindAll(env.Dir)}
	for _, n := range labUTS(others) {
		errs = append(errs, ns.Kill(n.ID))
	}
	return errors.Join(errs...)
}

// UTSInspect: a live quiz, the inode of the lab-uts namespace.
var UTSInspect = steps.Step{
	ID:      "uts/inspect",
	Title:   "Find the namespace in /proc/PID/ns and lsns",
	Setup:   solveUTSHostname,
	Quiz:    utsInodeQuiz,
	Solve:   steps.SolveQuiz("uts/inspect", utsInodeQuiz),
	Cleanup: steps.ClearQuiz("uts/inspect"),
}

var utsInodeQuiz = &steps.Quiz{
	Ask: func(context.Context, checker.Host) (steps.Question, error) {
		return steps.Question{Text: "What is the inode number of the UTS namespace whose hostname is " + UTSHostname +
			"? (It is the number in `readlink /proc/PID/ns/uts` and the NS column of `lsns -t uts`.)"}, nil
	},
	Grade: func(ctx context.Context, h checker.Host, answer string) checker.Result {
		const name = "the inode of the " + UTSHostname + " UTS namespace"
		_, others, err := utsNamespaces(h.FS())
		if err != nil {
			return checker.Errored(name, err)
		}
		found := labUTS(others)
		if len(found) == 0 {
			return checker.Failed(name, "no UTS namespace is named "+UTSHostname+" any more",
				"start it again (step uts/hostname), then read its inode")
		}
		ino, err := parseInode(answer)
		if err != nil {
			return checker.Failed(name, err.Error(), "answer with the number, like 4026532201, or the link text uts:[4026532201]")
		}
		for _, n := range found {
			if n.ID.Inode == ino {
				return checker.Passed(name, fmt.Sprintf("%s is the UTS namespace of %s", n.ID, n.Proc))
			}
		}
		return checker.Failed(name, fmt.Sprintf("namespace %d is not the one named %s", ino, UTSHostname),
			"the host's UTS namespace is the one most processes share; yours has the process you started with unshare")
	},
	Solution: func(ctx context.Context, h checker.Host) (string, error) {
		_, others, err := utsNamespaces(h.FS())
		if err != nil {
			return "", err
		}
		found := labUTS(others)
		if len(found) == 0 {
			return "", errors.New("no UTS namespace is named " + UTSHostname + ": solve uts/hostname first")
		}
		return strconv.FormatUint(found[0].ID.Inode, 10), nil
	},
}

// parseInode accepts "4026532201" or "uts:[4026532201]".
func parseInode(answer string) (uint64, error) {
	s := strings.TrimSpace(answer)
	if i := strings.Index(s, "["); i >= 0 {
		s = strings.TrimSuffix(s[i+1:], "]")
	}
	ino, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("answer %q is not an inode number", answer)
	}
	return ino, nil
}

// UTSDomainname: join the namespace with nsenter and set its NIS domain.
var UTSDomainname = steps.Step{
	ID:    "uts/domainname",
	Title: "Join the namespace with nsenter and set its domain name",
	Setup: solveUTSHostname,
	Check: checkUTSDomainname,
	Solve: func(ctx context.Context, env *steps.Env) error {
		if err := solveUTSHostname(ctx, env); err != nil {
			return err
		}
		_, others, err := utsNamespaces(env.Host.FS())
		if err != nil {
			return err
		}
		found := labUTS(others)
		if len(found) == 0 {
			return errors.New("no UTS namespace is named " + UTSHostname)
		}
		return ns.Do(found[0].Proc.PID, []ns.Kind{ns.UTS}, func() error { return ns.SetDomainname(UTSDomain) })
	},
}

func checkUTSDomainname(ctx context.Context, h checker.Host) checker.Result {
	const name = "the " + UTSHostname + " namespace has domain name " + UTSDomain
	host, others, err := utsNamespaces(h.FS())
	if err != nil {
		return checker.Errored(name, err)
	}
	if host.Domainname == UTSDomain {
		return checker.Failed(name,
			"the host's own NIS domain name is "+UTSDomain+": domainname ran in the host's UTS namespace, not in "+UTSHostname+"'s",
			"put it back with domainname '(none)', then run it through nsenter --target PID --uts")
	}
	found := labUTS(others)
	if len(found) == 0 {
		return checker.Failed(name, "no UTS namespace is named "+UTSHostname, "do step uts/hostname first (lab goto uts/hostname)")
	}
	for _, n := range found {
		if n.Names.Domainname == UTSDomain {
			return checker.Passed(name, fmt.Sprintf("%s (hostname %s) reports domain name %s", n.ID, n.Names.Hostname, n.Names.Domainname),
				"the host's domain name is still "+host.Domainname)
		}
	}
	n := found[0]
	return checker.Mismatch(name, "domain name "+UTSDomain+" in "+n.ID.String(),
		fmt.Sprintf("domain name %q in %s", n.Names.Domainname, n.ID),
		fmt.Sprintf("join it: nsenter --target %d --uts domainname %s", n.Proc.PID, UTSDomain))
}
