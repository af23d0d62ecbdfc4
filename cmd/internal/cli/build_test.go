package cli

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lab-edu/lab/kernel/image"
	"github.com/lab-edu/lab/kernel/kerneltest"
)

func TestImageBuildArgsToOptions(t *testing.T) {
	e := newTestEnv(t)
	var got *imageBuildOptions
	cmd := newCmdImageBuild(e.f, func(o *imageBuildOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"-t", "lab-app:v1", "-f", "Dockerfile.dev", "--build-arg", "A=1", "--no-cache", "--target", "build", "ctx"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Tag != "lab-app:v1" || got.File != "Dockerfile.dev" || got.Context != "ctx" || !got.NoCache ||
		got.Target != "build" || !slices.Equal(got.BuildArgs, []string{"A=1"}) {
		t.Errorf("options = %+v", got)
	}
	for _, bad := range [][]string{{}, {"a", "b"}} {
		cmd := newCmdImageBuild(e.f, func(*imageBuildOptions) error { return nil })
		cmd.SetArgs(bad)
		cmd.SetOut(io.Discard)
		cmd.SetErr(io.Discard)
		if err := cmd.Execute(); err == nil {
			t.Errorf("build %q accepted, want a usage error", bad)
		}
	}
}

func TestContainerFSArgsToOptions(t *testing.T) {
	e := newTestEnv(t)
	var commit *containerCommitOptions
	cmd := newCmdContainerCommit(e.f, func(o *containerCommitOptions) error { commit = o; return nil })
	cmd.SetArgs([]string{"web", "lab-web:v2", "-m", "fixed", "-a", "me"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if commit.Container != "web" || commit.Name != "lab-web:v2" || commit.Message != "fixed" || commit.Author != "me" {
		t.Errorf("commit options = %+v", commit)
	}
	var export *containerExportOptions
	cmd = newCmdContainerExport(e.f, func(o *containerExportOptions) error { export = o; return nil })
	cmd.SetArgs([]string{"web", "-o", "web.tar"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if export.Container != "web" || export.Output != "web.tar" {
		t.Errorf("export options = %+v", export)
	}
}

// TestImageBuildCommand builds, rebuilds from the cache, and refuses bad
// input with docker's 125 and one line, leaving the store unchanged.
func TestImageBuildCommand(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root, kerneltest.Module("overlay"), kerneltest.Tool(image.DefaultBusybox))
	e := newTestEnv(t)
	if code := e.run(t, "image", "import-busybox"); code != ExitOK {
		t.Fatalf("import-busybox: exit %d: %s", code, e.errOut)
	}
	dir := t.TempDir()
	write := func(name, body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("msg.txt", "hello from the context\n")
	write("Dockerfile", "FROM busybox AS build\nCOPY msg.txt /msg\nRUN cat /msg > /out\nFROM busybox\nCOPY --from=build /out /out\nCMD [\"cat\", \"/out\"]\n")
	if code := e.run(t, "image", "build", "-t", "lab-t-c-cli", dir); code != ExitOK {
		t.Fatalf("build: exit %d: %s\n%s", code, e.errOut, e.out)
	}
	mustContain(t, "build output", e.out.String(), "Step 1/6 : FROM busybox AS build", "Successfully tagged lab-t-c-cli:latest")
	if code := e.run(t, "image", "build", "-t", "lab-t-c-cli", dir); code != ExitOK {
		t.Fatalf("rebuild: exit %d: %s", code, e.errOut)
	}
	if n := strings.Count(e.out.String(), "CACHED"); n != 4 {
		t.Errorf("rebuild said CACHED %d times, want 4:\n%s", n, e.out)
	}
	mustContain(t, "rebuild output", e.out.String(), "(0 new layers")
	e.run(t, "image", "history", "lab-t-c-cli")
	mustContain(t, "history", e.out.String(), `CMD ["cat", "/out"]`, "COPY --from=build /out /out")

	store := filepath.Join(e.f.Root, "images")
	before := buildStoreListing(t, store)
	bad := []struct {
		name, dockerfile, want string
	}{
		{"unknown instruction", "FROM busybox\nSHOUT x\n", `unknown instruction "SHOUT"`},
		{"outside the context", "FROM busybox\nCOPY ../secret /x\n", "outside the build context"},
		{"unknown stage", "FROM busybox\nCOPY --from=nope /a /b\n", `no stage named "nope"`},
		{"failing run", "FROM busybox\nRUN touch /made && exit 7\n", "non-zero code: 7"},
	}
	for _, tc := range bad {
		write("Dockerfile.bad", tc.dockerfile)
		code := e.run(t, "image", "build", "-t", "lab-t-c-bad", "-f", filepath.Join(dir, "Dockerfile.bad"), dir)
		msg := strings.TrimSpace(e.errOut.String())
		if code != exitImageError || !strings.Contains(msg, tc.want) || strings.Count(msg, "\n") != 0 {
			t.Errorf("%s: exit %d, stderr %q; want 125 and one line containing %q", tc.name, code, msg, tc.want)
		}
	}
	if code := e.run(t, "image", "build", filepath.Join(dir, "nodir")); code != exitImageError {
		t.Errorf("missing context: exit %d, want 125", code)
	}
	if code := e.run(t, "image", "build", "-f", filepath.Join(dir, "Nofile"), dir); code != exitImageError {
		t.Errorf("missing Dockerfile: exit %d, want 125", code)
	}
	if after := buildStoreListing(t, store); !slices.Equal(before, after) {
		t.Errorf("bad builds changed the store:\nbefore %v\nafter  %v", before, after)
	}
}

// buildStoreListing lists a store's files, leaving out its lock and build workspaces.
func buildStoreListing(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		rel, _ := filepath.Rel(root, p)
		if rel != "lock" && rel != "builds" {
			out = append(out, rel)
		}
		return nil
	})
	return out
}

// TestContainerDiffCommitExport changes a container's files with the real
// runtime, then reads the changes back three ways.
func TestContainerDiffCommitExport(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root, kerneltest.Module("overlay"), kerneltest.Tool(image.DefaultBusybox))
	e := newTestEnv(t)
	if code := e.run(t, "image", "import-busybox"); code != ExitOK {
		t.Fatalf("import-busybox: exit %d: %s", code, e.errOut)
	}
	const name = "lab-t-c-fs"
	t.Cleanup(func() { e.run(t, "container", "rm", "-f", name) })
	if code := e.run(t, "run", "--name", name, "--net", "none", "busybox", "sh", "-c",
		"echo new > /added && echo more >> /etc/group && rm /bin/ls && mkdir -p /var/x"); code != ExitOK {
		t.Fatalf("run: exit %d: %s", code, e.errOut)
	}
	if code := e.run(t, "container", "diff", name); code != ExitOK {
		t.Fatalf("diff: exit %d: %s", code, e.errOut)
	}
	diff := strings.Split(strings.TrimSpace(e.out.String()), "\n")
	for _, want := range []string{"A /added", "C /etc/group", "D /bin/ls", "C /var", "A /var/x"} {
		if !slices.Contains(diff, want) {
			t.Errorf("diff has no %q:\n%s", want, e.out)
		}
	}
	for _, line := range diff {
		if strings.Contains(line, "/etc/hosts") || strings.Contains(line, "/etc/resolv.conf") {
			t.Errorf("diff shows a file the runtime wrote: %s", line)
		}
	}

	if code := e.run(t, "container", "commit", "-m", "by the test", name, "lab-t-c-committed"); code != ExitOK {
		t.Fatalf("commit: exit %d: %s", code, e.errOut)
	}
	s, err := image.Open(filepath.Join(e.f.Root, "images"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := s.Get("lab-t-c-committed")
	if err != nil {
		t.Fatal(err)
	}
	base, _ := s.Get("busybox")
	if len(img.Layers) != len(base.Layers)+1 {
		t.Fatalf("committed image has %d layers, want %d", len(img.Layers), len(base.Layers)+1)
	}
	top := tarEntryNames(t, filepath.Join(s.Root(), "blobs", "sha256", img.Layers[len(img.Layers)-1].DiffID.Encoded()))
	for _, want := range []string{"added", "etc/group", "bin/.wh.ls"} {
		if !slices.Contains(top, want) {
			t.Errorf("committed layer has no %s: %v", want, top)
		}
	}
	if slices.Contains(top, "etc/hosts") {
		t.Errorf("committed layer has the runtime's etc/hosts")
	}
	if code := e.run(t, "run", "--rm", "--net", "none", "lab-t-c-committed", "cat", "/added"); code != ExitOK || e.out.String() != "new\n" {
		t.Errorf("the committed image: cat /added: exit %d, %q, %s", code, e.out, e.errOut)
	}

	out := filepath.Join(t.TempDir(), "fs.tar")
	if code := e.run(t, "container", "export", name, "-o", out); code != ExitOK {
		t.Fatalf("export: exit %d: %s", code, e.errOut)
	}
	names := tarEntryNames(t, out)
	for _, want := range []string{"added", "bin/busybox", "etc/group", "var/x/"} {
		if !slices.Contains(names, want) {
			t.Errorf("export has no %s", want)
		}
	}
	for _, gone := range []string{"bin/ls", "bin/.wh.ls"} {
		if slices.Contains(names, gone) {
			t.Errorf("export has %s: the deletion did not apply", gone)
		}
	}
	if code := e.run(t, "container", "diff", "lab-t-c-nosuch"); code != exitImageError {
		t.Errorf("diff of an unknown container: exit %d, want 125", code)
	}
}

func tarEntryNames(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var names []string
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
	}
}
