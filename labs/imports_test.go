package labs_test

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// kernelOnly are the modules only kernel/** may import: every syscall and
// netlink message of the project lives in exactly one place.
var kernelOnly = []string{
	"golang.org/x/sys/unix",
	"github.com/vishvananda/netlink",
	"github.com/vishvananda/netns",
	"github.com/containerd/cgroups",
	"github.com/syndtr/gocapability",
	"github.com/coreos/go-iptables",
}

const module = "github.com/lab-edu/lab/"

// TestImportRules enforces the dependency rules of STYLE.md with
// `go list`: only kernel/ talks to the kernel, content imports nothing of
// the project, and nothing imports cmd/.
func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-e", "-json", "../...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		rel := strings.TrimPrefix(p.ImportPath, module)
		for _, imp := range p.Imports {
			for _, k := range kernelOnly {
				if strings.HasPrefix(imp, k) && !strings.HasPrefix(rel, "kernel/") {
					t.Errorf("%s imports %s: only kernel/ may (add a function to a kernel/ package)", rel, imp)
				}
			}
			if strings.HasPrefix(imp, module+"cmd/") && !strings.HasPrefix(rel, "cmd/") {
				t.Errorf("%s imports %s: nothing outside cmd/ may", rel, imp)
			}
			if strings.HasPrefix(rel, "content") && strings.HasPrefix(imp, module) {
				t.Errorf("content imports %s: content imports nothing from the project", imp)
			}
			if strings.HasPrefix(rel, "kernel/") && strings.HasPrefix(imp, module) &&
				!strings.HasPrefix(imp, module+"kernel/") {
				t.Errorf("%s imports %s: kernel/ knows nothing of labs, steps or the checker", rel, imp)
			}
		}
	}
}
