package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lab-edu/lab/kernel/kerneltest"
)

func TestImageArgsToOptions(t *testing.T) {
	e := newTestEnv(t)
	var save *imageSaveOptions
	cmd := newCmdImageSave(e.f, func(o *imageSaveOptions) error { save = o; return nil })
	cmd.SetArgs([]string{"busybox", "lab-x:v1", "-o", "out.tar", "--format", "oci"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(save.Names, []string{"busybox", "lab-x:v1"}) || save.Output != "out.tar" || save.Format != "oci" {
		t.Errorf("save options = %+v", save)
	}
	var load *imageLoadOptions
	cmd = newCmdImageLoad(e.f, func(o *imageLoadOptions) error { load = o; return nil })
	cmd.SetArgs([]string{"-i", "in.tar"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if load.File != "in.tar" {
		t.Errorf("load options = %+v", load)
	}
	var bb *imageImportBusyboxOptions
	cmd = newCmdImageImportBusybox(e.f, func(o *imageImportBusyboxOptions) error { bb = o; return nil })
	cmd.SetArgs(nil)
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if bb.Name != "busybox" || bb.Binary != "/bin/busybox" {
		t.Errorf("import-busybox defaults = %+v, want busybox from /bin/busybox", bb)
	}
}

// TestImageCommands drives `lab image` end to end on a store under a
// temporary state dir, and checks docker's exit code 125 on errors.
func TestImageCommands(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root, kerneltest.Tool("busybox"))
	e := newTestEnv(t)
	if code := e.run(t, "image", "import-busybox"); code != ExitOK {
		t.Fatalf("import-busybox: exit %d: %s", code, e.errOut)
	}
	mustContain(t, "import-busybox output", e.out.String(), "Imported busybox:latest (sha256:")
	if code := e.run(t, "image", "tag", "busybox", "lab-copy:v1"); code != ExitOK {
		t.Fatalf("tag: exit %d: %s", code, e.errOut)
	}
	e.run(t, "image", "ls")
	mustContain(t, "image ls", e.out.String(), "REPOSITORY", "busybox", "latest", "lab-copy", "v1")
	e.run(t, "image", "history", "busybox")
	mustContain(t, "image history", e.out.String(), "LAYER DIGEST", "sha256:", "lab image import-busybox")

	archive := filepath.Join(t.TempDir(), "bb.tar")
	if code := e.run(t, "image", "save", "lab-copy:v1", "-o", archive); code != ExitOK {
		t.Fatalf("save: exit %d: %s", code, e.errOut)
	}
	if code := e.run(t, "image", "rm", "lab-copy:v1"); code != ExitOK {
		t.Fatalf("rm: exit %d: %s", code, e.errOut)
	}
	mustContain(t, "image rm", e.out.String(), "Untagged: lab-copy:v1")
	if code := e.run(t, "image", "load", archive); code != ExitOK {
		t.Fatalf("load: exit %d: %s", code, e.errOut)
	}
	mustContain(t, "image load", e.out.String(), "Loaded image: lab-copy:v1")

	// A plain tar becomes a one-layer image, named by sha256sum of the tar.
	layer := filepath.Join(t.TempDir(), "layer.tar")
	if err := os.WriteFile(layer, make([]byte, 1024), 0o644); err != nil { // an empty tar: two zero blocks
		t.Fatal(err)
	}
	if code := e.run(t, "image", "import", layer, "lab-empty"); code != ExitOK {
		t.Fatalf("import: exit %d: %s", code, e.errOut)
	}
	e.run(t, "image", "history", "lab-empty")
	mustContain(t, "history of an empty layer", e.out.String(), "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef")

	bad := []struct {
		args []string
		want string
	}{
		{[]string{"image", "history", "nope"}, "no such image"},
		{[]string{"image", "rm", "nope"}, "no such image"},
		{[]string{"image", "tag", "busybox", "Bad Name"}, "invalid name"},
		{[]string{"image", "load", filepath.Join(t.TempDir(), "missing.tar")}, "no such file"},
		{[]string{"image", "load", layer}, "neither a docker save tarball"},
		{[]string{"image", "save", "busybox", "--format", "zip", "-o", archive}, `unknown --format "zip"`},
		{[]string{"image", "import-busybox", "--binary", "/nonexistent/busybox"}, "install busybox-static"},
	}
	before, _ := os.ReadFile(filepath.Join(imageStoreDir(e.f), "index.json"))
	for _, b := range bad {
		if code := e.run(t, b.args...); code != exitImageError {
			t.Errorf("lab %s: exit %d, want %d", strings.Join(b.args, " "), code, exitImageError)
		}
		mustContain(t, "lab "+strings.Join(b.args, " "), e.errOut.String(), b.want)
	}
	if after, _ := os.ReadFile(filepath.Join(imageStoreDir(e.f), "index.json")); string(after) != string(before) {
		t.Errorf("a refused command changed index.json")
	}
}

func TestImageProgressOnTerminal(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root, kerneltest.Tool("busybox"))
	e := newTestEnv(t)
	e.f.IO.SetTTY(true, false)
	if code := e.run(t, "image", "import-busybox", "lab-bar"); code != ExitOK {
		t.Fatalf("import-busybox: exit %d: %s", code, e.errOut)
	}
	mustContain(t, "output on a terminal", e.out.String(), "importing busybox", "Imported lab-bar:latest")
}
