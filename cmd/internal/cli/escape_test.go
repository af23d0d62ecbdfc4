package cli

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/lab-edu/lab/kernel/kerneltest"
)

func TestEscapeFlags(t *testing.T) {
	tests := []struct {
		args    []string
		wantPID int
		wantErr string
	}{
		{nil, 0, ""},
		{[]string{"--pid", "42"}, 42, ""},
		{[]string{"--pid", "abc"}, 0, `--pid "abc" is not a process ID`},
		{[]string{"--pid", "-3"}, 0, `--pid "-3" is not a process ID`},
		{[]string{"extra"}, 0, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			io, _, _, _ := TestIO()
			var got *escapeOptions
			cmd := newCmdEscape(&Factory{IO: io}, func(o *escapeOptions) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(io.Out)
			cmd.SetErr(io.ErrOut)
			err := cmd.Execute()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				var ee *ExitError
				if errors.As(err, &ee) && ee.Code != ExitUsage {
					t.Fatalf("exit code %d, want %d", ee.Code, ExitUsage)
				}
				return
			}
			if err != nil || got == nil || got.PID != tt.wantPID {
				t.Fatalf("options = %+v, %v; want PID %d", got, err, tt.wantPID)
			}
		})
	}
}

func TestEscapeNoSuchPID(t *testing.T) {
	io, _, _, _ := TestIO()
	err := runEscape(t.Context(), &escapeOptions{f: &Factory{IO: io, Euid: func() int { return 0 }}, PID: 1 << 30})
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Code != ExitUsage || !strings.Contains(err.Error(), "no such process") {
		t.Fatalf("err = %v, want a usage error naming the PID", err)
	}
}

func TestEscapeNotRoot(t *testing.T) {
	io, _, _, _ := TestIO()
	err := runEscape(t.Context(), &escapeOptions{f: &Factory{IO: io, Euid: func() int { return 1000 }}})
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Code != ExitEnv {
		t.Fatalf("err = %v, want an environment error", err)
	}
}

// The demonstration, for real: root gets out of a plain chroot.
func TestEscapeDemonstration(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root)
	io, _, out, _ := TestIO()
	root := t.TempDir()
	f := &Factory{IO: io, Root: root, Euid: os.Geteuid}
	if err := runEscape(t.Context(), &escapeOptions{f: f}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"chroot(", `chdir("..") x 64`, "it escaped"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if left, _ := os.ReadDir(f.Work() + "/chroot"); len(left) != 0 {
		t.Errorf("the throwaway chroot was left behind: %v", left)
	}
}
