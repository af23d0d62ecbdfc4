// Package cli holds the cobra commands of lab. Commands are thin: parse
// flags into an options struct, call labs/, steps/ or kernel/, print.
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/cmd/internal/prompt"
	"github.com/lab-edu/lab/kernel/reexec"
	"github.com/lab-edu/lab/labs"
)

// Version is set at build time with -ldflags "-X .../cli.Version=...".
var Version = "dev"

// DefaultRoot is the state directory; LAB_ROOT overrides it.
const DefaultRoot = "/var/lib/lab"

// Factory gives commands what they share, so tests can swap any of it.
type Factory struct {
	IO   *IOStreams
	Root string              // state directory
	Labs func() []labs.Lab   // the catalogue
	Euid func() int          // os.Geteuid, swappable in tests
	Host func() checker.Host // the live host view with recorded answers
	// Prompter asks questions; commands use it only when IO.CanPrompt().
	Prompter prompt.Prompter
	// Lang is the language of lesson text ("en", "fr"; "" is English),
	// set from --lang, LAB_LANG or the locale by lessonLang.
	Lang string
}

// Store is the progress store in the state directory.
func (f *Factory) Store() *labs.Store { return labs.NewStore(f.Root) }

// Work is the directory holding each lab's workspace.
func (f *Factory) Work() string { return filepath.Join(f.Root, "work") }

// NewFactory returns the real factory.
func NewFactory() *Factory {
	root := os.Getenv("LAB_ROOT")
	if root == "" {
		root = DefaultRoot
	}
	f := &Factory{IO: System(), Root: root, Labs: labs.All, Euid: os.Geteuid}
	f.Host = func() checker.Host { return checker.LiveHost{Work: f.Work(), Answers: f.Store().Answer} }
	f.Prompter = prompt.NewSurvey(f.IO.In, f.IO.Out, f.IO.ErrOut)
	return f
}

// NewCmdRoot builds the command tree.
func NewCmdRoot(f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:           "lab",
		Short:         "Learn containers from chroot to a mini-Docker, checked against the live kernel",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       Version,
	}
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	root.SetIn(f.IO.In)
	// Usage errors from cobra itself (unknown flag, wrong arg count) exit 2.
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &ExitError{Code: ExitUsage, Err: err}
	})
	var lang string
	root.PersistentFlags().StringVar(&lang, "lang", "", "language of the lessons: en or fr (default: LAB_LANG, else the locale)")
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		var err error
		f.Lang, err = lessonLang(lang, os.Getenv)
		return err
	}
	for _, add := range commands {
		root.AddCommand(add(f))
	}
	return root
}

// commands lists every top-level command constructor. Each verb file adds
// itself with one line here.
var commands = []func(*Factory) *cobra.Command{
	cmdList, cmdStart, cmdCheck, cmdHint, cmdStatus, cmdNext, cmdGoto, cmdSolve, cmdReset, cmdGrade,
	cmdDoctor, newCmdDev, newCmdVersion,
	cmdStress, cmdCgroup,
	cmdCaps,
	cmdNet,
	newCmdImage,
	cmdEscape,
	cmdNs,
	cmdRun, newCmdContainer, cmdPs, newCmdLogs, newCmdExec, newCmdStop, newCmdKill, newCmdRm, newCmdInspect, newCmdTop, newCmdStats,
}

// requireRoot is what commands that touch the kernel call first.
func requireRoot(f *Factory) error {
	if f.Euid() != 0 {
		return EnvError("lab needs root to read and change kernel state: run it with sudo (sudo lab ...)")
	}
	return nil
}

// Main runs lab and returns the process exit code.
func Main() int {
	if reexec.Init() {
		return ExitOK
	}
	ctx, stop := interruptContext()
	defer stop()
	f := NewFactory()
	cmd := NewCmdRoot(f)
	err := cmd.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	code := exitCode(err)
	if code == ExitInternal && isUsage(err) {
		code = ExitUsage
	}
	if msg := err.Error(); msg != "" {
		fmt.Fprintln(f.IO.ErrOut, "lab: "+msg)
	}
	return code
}

// isUsage recognises cobra's own argument and command errors, which are
// plain errors.
func isUsage(err error) bool {
	var ee *ExitError
	if errors.As(err, &ee) {
		return false
	}
	msg := err.Error()
	for _, s := range []string{"unknown command", "accepts ", "requires ", "unknown flag", "invalid argument", "flag needs"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// interruptContext is signal.NotifyContext for SIGINT and SIGTERM (Ctrl-C
// and kill cancel the command, which then cleans up), except that the
// signals are registered in the background: the first signal.Notify of a
// process waits until the Go runtime has started its signal-handling
// thread, up to a millisecond or two on a busy VM, on the path of every
// lab command. A signal in the first moments of lab, before anything was
// changed, just ends it.
func interruptContext() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		caught := make(chan os.Signal, 1)
		signal.Notify(caught, os.Interrupt, syscall.SIGTERM)
		// As with NotifyContext, the signals stay caught until stop: a
		// second Ctrl-C does not cut the clean-up of the first short.
		defer signal.Stop(caught)
		select {
		case <-caught:
			cancel()
		case <-stopped:
			return
		}
		<-stopped
	}()
	var once sync.Once
	return ctx, func() { once.Do(func() { cancel(); close(stopped) }) }
}
