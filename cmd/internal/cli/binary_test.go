package cli

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// runBinary runs this test binary as the real lab (TestMain calls Main
// when LAB_TEST_MAIN=1): real catalogue, real signal handling, real exit
// codes, with LAB_ROOT pointing at root.
func runBinary(t *testing.T, root string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "LAB_TEST_MAIN=1", "LAB_ROOT="+root)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out.String(), errOut.String()
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, out.String(), errOut.String()
}

func TestBinaryExitCodes(t *testing.T) {
	root := filepath.Join(t.TempDir(), "state")
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"version"}, 0, ""},
		{[]string{"list"}, 0, ""},
		{[]string{"start", "nosuch"}, 2, `unknown lab "nosuch"`},
		{[]string{"check", "nosuch/step"}, 2, `unknown step "nosuch/step"`},
		{[]string{"grade", "--format", "xml"}, 2, `unknown format "xml"`},
		{[]string{"grade", "--bogus"}, 2, "--bogus"},
		{[]string{"frobnicate"}, 2, "frobnicate"},
	} {
		code, _, stderr := runBinary(t, root, tt.args...)
		if code != tt.code {
			t.Errorf("lab %s: exit %d, want %d (%s)", strings.Join(tt.args, " "), code, tt.code, stderr)
		}
		if tt.want != "" {
			oneLine(t, strings.Join(tt.args, " "), stderr)
			mustContain(t, strings.Join(tt.args, " "), stderr, tt.want)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "progress.json")); err == nil {
		t.Error("bad input wrote progress")
	}

	// Garbage in the state file: one line, exit 2, the file untouched.
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(root, "progress.json")
	if err := os.WriteFile(path, []byte("garbage\x00"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"status"}, {"list"}, {"check"}} {
		code, _, stderr := runBinary(t, root, args...)
		if code != 2 {
			t.Errorf("lab %s with garbage state: exit %d, want 2", args[0], code)
		}
		oneLine(t, args[0], stderr)
		mustContain(t, args[0], stderr, path, "reset --all")
	}
	if b, _ := os.ReadFile(path); string(b) != "garbage\x00" {
		t.Errorf("the garbage state file was changed: %q", b)
	}
}
