package stepstest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// LabBinary puts a `lab` command in dir, for tests that run a lesson's
// Solution block (which calls `lab ...`) with dir first on PATH, and
// returns its path. When $LAB_BIN names a lab binary (the test VM
// installs one, and compiling there is very slow) dir/lab is a symbolic
// link to it; otherwise it is built from this tree with `go build`.
func LabBinary(dir string) (string, error) {
	bin := filepath.Join(dir, "lab")
	if prebuilt := os.Getenv("LAB_BIN"); prebuilt != "" {
		if _, err := os.Stat(prebuilt); err != nil {
			return "", fmt.Errorf("LAB_BIN: %w", err)
		}
		if err := os.Symlink(prebuilt, bin); err != nil {
			return "", fmt.Errorf("link %s to LAB_BIN: %w", bin, err)
		}
		return bin, nil
	}
	out, err := exec.Command("go", "build", "-o", bin, "github.com/lab-edu/lab/cmd/lab").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build lab: %w\n%s", err, out)
	}
	return bin, nil
}
