package container

import (
	"io"
	"os"
	"os/signal"
	"sync"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// terminal connects a foreground container to the caller's stdio: the
// files themselves when they are files (no copying on the hot path),
// pipes otherwise, or a pseudo-terminal with -t.
type terminal struct {
	stdin, stdout, stderr *os.File // what the container gets
	closers               []io.Closer
	copies                sync.WaitGroup
	restore               func()
}

func newTerminal(tty, interactive bool, stdio Stdio) (*terminal, error) {
	t := &terminal{restore: func() {}}
	if tty {
		return t, t.openPTY(interactive, stdio)
	}
	var err error
	if interactive && stdio.In != nil {
		if t.stdin, err = t.reader(stdio.In); err != nil {
			return nil, err
		}
	}
	if t.stdout, err = t.writer(stdio.Out); err != nil {
		return nil, err
	}
	if stdio.Err == stdio.Out {
		// One pipe for both, as os/exec does: two copies into one writer
		// (a bytes.Buffer's ReadFrom) would race.
		t.stderr = t.stdout
		return t, nil
	}
	if t.stderr, err = t.writer(stdio.Err); err != nil {
		return nil, err
	}
	return t, nil
}

// reader returns a file the container reads r from.
func (t *terminal) reader(r io.Reader) (*os.File, error) {
	if f, ok := r.(*os.File); ok {
		return f, nil
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	t.closers = append(t.closers, pr)
	go func() { _, _ = io.Copy(pw, r); pw.Close() }()
	return pr, nil
}

// writer returns a file whose content reaches w.
func (t *terminal) writer(w io.Writer) (*os.File, error) {
	if w == nil {
		return nil, nil
	}
	if f, ok := w.(*os.File); ok {
		return f, nil
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	t.closers = append(t.closers, pw) // closed by started: the child has its copy
	t.copies.Add(1)
	go func() { defer t.copies.Done(); _, _ = io.Copy(w, pr); pr.Close() }()
	return pw, nil
}

// openPTY gives the command a new pseudo-terminal of the host's devpts
// (exec -t): its slave end is the command's stdin, stdout, stderr and
// controlling terminal.
func (t *terminal) openPTY(interactive bool, stdio Stdio) error {
	master, slave, err := pty.Open()
	if err != nil {
		return err
	}
	t.stdin, t.stdout, t.stderr = slave, slave, slave
	t.closers = append(t.closers, slave)
	t.useMaster(master, interactive, stdio)
	return nil
}

// useMaster connects the master end of the command's terminal to the
// caller's stdio: this process copies between them, puts the caller's
// terminal in raw mode (keys such as Ctrl-C then reach the container's line
// discipline, which turns them into signals there) and passes on window
// size changes (SIGWINCH → TIOCSWINSZ on the master).
func (t *terminal) useMaster(master *os.File, interactive bool, stdio Stdio) {
	if in, ok := stdio.In.(*os.File); ok && term.IsTerminal(int(in.Fd())) {
		_ = pty.InheritSize(in, master)
		if interactive {
			if old, err := term.MakeRaw(int(in.Fd())); err == nil {
				t.restore = func() { _ = term.Restore(int(in.Fd()), old) }
			}
		}
		winch := make(chan os.Signal, 1)
		signal.Notify(winch, unix.SIGWINCH)
		go func() {
			for range winch {
				_ = pty.InheritSize(in, master)
			}
		}()
		prev := t.restore
		t.restore = func() { signal.Stop(winch); prev() }
	}
	if interactive && stdio.In != nil {
		go func() { _, _ = io.Copy(master, stdio.In) }()
	}
	t.copies.Add(1)
	go func() {
		defer t.copies.Done()
		if stdio.Out != nil {
			// Ends with EIO once every slave descriptor is closed.
			_, _ = io.Copy(stdio.Out, master)
		}
		master.Close()
	}()
}

// started closes this process's copies of the container's ends, so the
// copies see end of file when the container exits.
func (t *terminal) started() {
	for _, c := range t.closers {
		c.Close()
	}
	t.closers = nil
}

// drain waits until the container's output is copied out.
func (t *terminal) drain() { t.copies.Wait() }

func (t *terminal) close() {
	t.started()
	t.restore()
}
