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
// link to it (lab finds lab-init beside its real path); otherwise lab and
// lab-init are built from this tree with `go build`.
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
	out, err := exec.Command("go", "build", "-o", dir+"/", "github.com/lab-edu/lab/cmd/lab", "github.com/lab-edu/lab/cmd/lab-init").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build lab: %w\n%s", err, out)
	}
	return bin, nil
}

// InstallLabInit puts lab-init in dir, where a lab binary of dir (or a
// test binary acting as lab) finds it and starts containers with it:
// copied from beside $LAB_BIN when set, otherwise built from this tree.
func InstallLabInit(dir string) (string, error) {
	dst := filepath.Join(dir, "lab-init")
	if prebuilt := os.Getenv("LAB_BIN"); prebuilt != "" {
		real, err := filepath.EvalSymlinks(prebuilt)
		if err != nil {
			return "", fmt.Errorf("LAB_BIN: %w", err)
		}
		b, err := os.ReadFile(filepath.Join(filepath.Dir(real), "lab-init"))
		if err != nil {
			return "", fmt.Errorf("lab-init beside LAB_BIN: %w", err)
		}
		return dst, os.WriteFile(dst, b, 0o755)
	}
	out, err := exec.Command("go", "build", "-o", dst, "github.com/lab-edu/lab/cmd/lab-init").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build lab-init: %w\n%s", err, out)
	}
	return dst, nil
}
