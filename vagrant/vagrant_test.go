// Package vagrant_test checks the files of the lab VM that no compiler
// reads: the Vagrantfiles (Ruby) and every shell script of the repository.
package vagrant_test

import (
	"bufio"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lab-edu/lab/kernel/kerneltest"
)

// TestVMFiles runs `ruby -c` on the Vagrantfiles and shellcheck on every
// shell script (*.sh, or a #! line naming sh or bash) outside hidden
// directories. `make lint-vm` runs just this test; `make vm-deps`
// installs ruby and shellcheck.
func TestVMFiles(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Tool("ruby"), kerneltest.Tool("shellcheck"))

	for _, vf := range []string{"Vagrantfile", "image/box.Vagrantfile"} {
		if out, err := exec.Command("ruby", "-c", vf).CombinedOutput(); err != nil {
			t.Errorf("ruby -c %s: %v\n%s", vf, err, out)
		}
	}

	scripts := shellScripts(t, "..")
	for _, must := range []string{"../vagrant/provision.sh", "../vagrant/image/build.sh", "../.ci/run"} {
		if !contains(scripts, must) {
			t.Errorf("%s not found as a shell script among %v", must, scripts)
		}
	}
	for _, s := range scripts {
		if out, err := exec.Command("shellcheck", s).CombinedOutput(); err != nil {
			t.Errorf("shellcheck %s:\n%s", s, out)
		}
	}
}

// shellScripts walks the tree from root, skipping hidden directories
// (.git, .cache) other than .ci, and bin/.
func shellScripts(t *testing.T, root string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") && name != ".ci" || name == "bin") {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if strings.HasSuffix(name, ".sh") || shebangShell(path) {
			found = append(found, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// shebangShell: does the file start with #! naming sh or bash?
func shebangShell(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	if !strings.HasPrefix(line, "#!") {
		return false
	}
	for _, word := range strings.Fields(line[2:]) {
		switch filepath.Base(word) {
		case "sh", "bash", "dash":
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if filepath.Clean(x) == filepath.Clean(s) {
			return true
		}
	}
	return false
}
