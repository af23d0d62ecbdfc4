package cli

import (
	"bytes"
	"io"
	"os"

	"golang.org/x/term"
)

// IOStreams are the command's standard streams, swappable in tests.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	outTTY, inTTY bool
}

// System returns the process's real streams.
func System() *IOStreams {
	return &IOStreams{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		outTTY: term.IsTerminal(int(os.Stdout.Fd())),
		inTTY:  term.IsTerminal(int(os.Stdin.Fd())),
	}
}

// TestIO returns streams backed by buffers: in, out, errOut.
func TestIO() (*IOStreams, *bytes.Buffer, *bytes.Buffer, *bytes.Buffer) {
	in, out, errOut := &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut}, in, out, errOut
}

// IsTerminal reports whether stdout is a terminal (colours, rendered lessons,
// progress bars).
func (s *IOStreams) IsTerminal() bool { return s.outTTY }

// CanPrompt reports whether both ends are terminals, so a survey prompt can
// be answered.
func (s *IOStreams) CanPrompt() bool { return s.outTTY && s.inTTY }

// SetTTY forces terminal mode in tests.
func (s *IOStreams) SetTTY(out, in bool) { s.outTTY, s.inTTY = out, in }
