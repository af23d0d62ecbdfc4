package build

import (
	"archive/tar"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lab-edu/lab/kernel/image"
	"github.com/lab-edu/lab/kernel/kerneltest"
	"github.com/lab-edu/lab/kernel/reexec"
	"github.com/lab-edu/lab/steps/stepstest"
)

func TestMain(m *testing.M) {
	if reexec.Init() {
		return
	}
	os.Exit(m.Run())
}

// busyboxStore is a fresh store holding busybox:latest, under a fresh
// state directory. At the end of the test nothing the builds made may be
// left: no mount below the state directory, no container state (RUN steps
// run in --rm containers), no build workspace.
func busyboxStore(t *testing.T) *image.Store {
	t.Helper()
	kerneltest.Requires(t, kerneltest.Root, kerneltest.Module("overlay"), kerneltest.Tool(image.DefaultBusybox))
	state := t.TempDir()
	s, err := image.Open(filepath.Join(state, "images"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ImportBusybox("", "busybox", image.Options{}); err != nil {
		t.Fatal(err)
	}
	before := stepstest.Snapshot(t)
	t.Cleanup(func() {
		// Other helpers' tests run at the same time: only differences
		// that name this state directory are ours.
		for _, line := range strings.Split(stepstest.Diff(before, stepstest.Snapshot(t)), "\n") {
			if strings.Contains(line, state) {
				t.Errorf("left behind: %s", line)
			}
		}
		if left, _ := os.ReadDir(filepath.Join(state, "containers")); len(left) > 1 { // .lock stays
			t.Errorf("RUN containers left in the state dir: %v", left)
		}
		if left, _ := os.ReadDir(filepath.Join(s.Root(), "builds")); len(left) > 0 {
			t.Errorf("build workspaces left: %v", left)
		}
	})
	return s
}

// writeContext writes files (name -> content) into a new build context.
func writeContext(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

type built struct {
	res      Result
	progress string
	out      string
	err      error
}

func build(t *testing.T, s *image.Store, ctxDir, tag string) built {
	t.Helper()
	var progress, out bytes.Buffer
	res, err := Build(t.Context(), Options{Store: s, StateDir: filepath.Dir(s.Root()), ContextDir: ctxDir, Tag: tag,
		Progress: &progress, Stdout: &out, Stderr: &out})
	return built{res, progress.String(), out.String(), err}
}

// storeListing is every file of the store except the build cache, with
// sizes: what "the store is unchanged" compares.
func storeListing(t *testing.T, s *image.Store) []string {
	t.Helper()
	var out []string
	err := filepath.Walk(s.Root(), func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(s.Root(), p)
		if rel == "lock" || rel == "builds" {
			return nil
		}
		out = append(out, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// runImage runs the image's Entrypoint+Cmd on its layers, the way a
// container would, and returns what it printed.
func runImage(t *testing.T, s *image.Store, ref string) string {
	t.Helper()
	img, err := s.Get(ref)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	merged, upper, work := filepath.Join(tmp, "m"), filepath.Join(tmp, "u"), filepath.Join(tmp, "w")
	for _, d := range []string{merged, upper, work} {
		os.Mkdir(d, 0o755)
	}
	argv := append(slices.Clone(img.Config.Config.Entrypoint), img.Config.Config.Cmd...)
	job := runJob{Argv: argv, Env: img.Config.Config.Env, Workdir: orRoot(img.Config.Config.WorkingDir),
		User: img.Config.Config.User, Lower: img.LowerDirs(), Upper: upper, Work: work, Merged: merged}
	var out bytes.Buffer
	if err := execRun(t.Context(), job, &out, &out); err != nil {
		t.Fatalf("run %s: %v\n%s", ref, err, out.String())
	}
	return out.String()
}

const twoStage = `# a two-stage build
ARG BASE=busybox
FROM $BASE AS builder
WORKDIR /src
COPY hello.txt ./
RUN echo "built from $(cat hello.txt)" > /src/out.txt \
    && rm /bin/vi

FROM ${BASE}
LABEL org.example.title="hello app" version=1
ENV GREETING=hi APP_HOME=/app
WORKDIR $APP_HOME
COPY --from=builder /src/out.txt ./
COPY conf/ /etc/app/
USER nobody
EXPOSE 8080 53/udp
CMD ["sh", "-c", "echo $GREETING; cat /app/out.txt; cat /etc/app/a.conf; id -u"]
`

func TestBuildTwoStageRunsAndCaches(t *testing.T) {
	s := busyboxStore(t)
	ctxDir := writeContext(t, map[string]string{"Dockerfile": twoStage, "hello.txt": "the context",
		"conf/a.conf": "a=1\n", "conf/sub/b.conf": "b=2\n", "conf/.hidden": "h"})
	b := build(t, s, ctxDir, "lab-t-c-app:v1")
	if b.err != nil {
		t.Fatalf("build: %v\n%s\n%s", b.err, b.progress, b.out)
	}
	img, err := s.Get("lab-t-c-app:v1")
	if err != nil {
		t.Fatal(err)
	}
	c := img.Config.Config
	if !slices.Contains(c.Env, "GREETING=hi") || c.WorkingDir != "/app" || c.User != "nobody" ||
		c.Labels["org.example.title"] != "hello app" || c.Labels["version"] != "1" {
		t.Errorf("config = %+v", c)
	}
	if _, ok := c.ExposedPorts["53/udp"]; !ok || len(c.ExposedPorts) != 2 {
		t.Errorf("ExposedPorts = %v, want 8080/tcp and 53/udp", c.ExposedPorts)
	}
	// busybox + WORKDIR /app + COPY --from + COPY conf
	if len(img.Layers) != 4 {
		t.Errorf("final image has %d layers, want 4", len(img.Layers))
	}
	got := runImage(t, s, "lab-t-c-app:v1")
	want := "hi\nbuilt from the context\na=1\n65534\n"
	if got != want {
		t.Errorf("running the CMD printed %q, want %q", got, want)
	}
	hist, err := s.History("lab-t-c-app:v1")
	if err != nil || !strings.Contains(hist[0].CreatedBy, "CMD") {
		t.Errorf("history top = %+v, %v", hist[0], err)
	}

	// An unchanged rebuild: every step from the cache, nothing new in the store.
	before := storeListing(t, s)
	again := build(t, s, ctxDir, "lab-t-c-app:v1")
	if again.err != nil {
		t.Fatal(again.err)
	}
	if again.res.NewLayers != 0 || again.res.ID != b.res.ID {
		t.Errorf("rebuild made %d layers, ID %s (first %s)", again.res.NewLayers, again.res.ID, b.res.ID)
	}
	if n := strings.Count(again.progress, "CACHED"); n != 11 {
		t.Errorf("rebuild says CACHED %d times, want 11 (every step but FROM):\n%s", n, again.progress)
	}
	if after := storeListing(t, s); !slices.Equal(before, after) {
		t.Errorf("rebuild changed the store:\nbefore %v\nafter  %v", before, after)
	}

	// Editing a COPY source rebuilds from that step on.
	os.WriteFile(filepath.Join(ctxDir, "conf/a.conf"), []byte("a=2\n"), 0o644)
	third := build(t, s, ctxDir, "lab-t-c-app:v2")
	if third.err != nil || third.res.NewLayers != 1 {
		t.Fatalf("after an edit: %d new layers, err %v\n%s", third.res.NewLayers, third.err, third.progress)
	}
}

func TestBuildBadInputLeavesStoreUnchanged(t *testing.T) {
	s := busyboxStore(t)
	cases := []struct {
		name, dockerfile, want string
		exit                   int
	}{
		{"unknown instruction", "FROM busybox\nFROBNICATE x\n", `unknown instruction "FROBNICATE"`, 0},
		{"copy outside the context", "FROM busybox\nCOPY ../etc/passwd /x\n", "outside the build context", 0},
		{"missing source", "FROM busybox\nCOPY nothere /x\n", "nothere: no such file", 0},
		{"unknown stage", "FROM busybox\nCOPY --from=nosuch /a /b\n", `no stage named "nosuch"`, 0},
		{"unknown image", "FROM lab-t-c-nosuch\n", "no such image", 0},
		{"failing run", "FROM busybox\nRUN echo made > /made\nRUN echo x > /x && exit 3\n", "non-zero code: 3", 3},
		{"command not found", "FROM busybox\nRUN [\"/nonexistent\"]\n", "/nonexistent", 127},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctxDir := writeContext(t, map[string]string{"Dockerfile": tc.dockerfile, "a": "a"})
			before := storeListing(t, s)
			b := build(t, s, ctxDir, "lab-t-c-bad")
			if b.err == nil || !strings.Contains(b.err.Error(), tc.want) {
				t.Fatalf("build error = %v, want one containing %q", b.err, tc.want)
			}
			var be *Error
			if errors.As(b.err, &be) && be.ExitCode != tc.exit {
				t.Errorf("exit code = %d, want %d", be.ExitCode, tc.exit)
			}
			if strings.Contains(b.err.Error(), "\n") {
				t.Errorf("error is not one line: %q", b.err)
			}
			if after := storeListing(t, s); !slices.Equal(before, after) {
				t.Errorf("store changed:\nbefore %v\nafter  %v", before, after)
			}
			if _, err := s.Get("lab-t-c-bad"); !errors.Is(err, image.ErrNotFound) {
				t.Errorf("image tagged after a failed build: %v", err)
			}
			if left, _ := os.ReadDir(filepath.Join(s.Root(), "builds")); len(left) != 0 {
				t.Errorf("build workspace left behind: %v", left)
			}
		})
	}
	t.Run("symlink out of the context", func(t *testing.T) {
		ctxDir := writeContext(t, map[string]string{"Dockerfile": "FROM busybox\nCOPY link /x\n"})
		if err := os.Symlink("/etc/passwd", filepath.Join(ctxDir, "link")); err != nil {
			t.Fatal(err)
		}
		before := storeListing(t, s)
		b := build(t, s, ctxDir, "lab-t-c-bad")
		if b.err == nil || !strings.Contains(b.err.Error(), "inside the build context") {
			t.Fatalf("error = %v, want a refusal to leave the context", b.err)
		}
		if after := storeListing(t, s); !slices.Equal(before, after) {
			t.Errorf("store changed")
		}
	})
	t.Run("missing dockerfile", func(t *testing.T) {
		b := build(t, s, t.TempDir(), "lab-t-c-bad")
		if b.err == nil || !strings.Contains(b.err.Error(), "Dockerfile") {
			t.Fatalf("error = %v", b.err)
		}
	})
}

func TestBuildAddTarScratchAndWhiteouts(t *testing.T) {
	s := busyboxStore(t)
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	tw.WriteHeader(&tar.Header{Name: "pkg/", Typeflag: tar.TypeDir, Mode: 0o755})
	tw.WriteHeader(&tar.Header{Name: "pkg/file", Typeflag: tar.TypeReg, Mode: 0o640, Size: 3})
	tw.Write([]byte("abc"))
	tw.Close()
	ctxDir := writeContext(t, map[string]string{"bundle.tar": tb.String(), "owned": "x", ".hidden": "h", "Dockerfile": `FROM busybox
ADD bundle.tar /opt/
COPY . /ctx/
COPY --chown=nobody:nobody owned /home/owned
RUN rm -r /etc && mkdir /etc && echo new > /etc/only
RUN rm /bin/ls
FROM scratch
COPY --from=0 /opt/pkg/file /file
COPY --from=busybox /etc/group /group
`})
	b := build(t, s, ctxDir, "lab-t-c-scratch")
	if b.err != nil {
		t.Fatalf("%v\n%s%s", b.err, b.progress, b.out)
	}
	img, _ := s.Get("lab-t-c-scratch")
	if len(img.Layers) != 2 {
		t.Fatalf("scratch image has %d layers, want 2", len(img.Layers))
	}
	if got, _ := os.ReadFile(filepath.Join(img.Layers[0].Dir, "file")); string(got) != "abc" {
		t.Errorf("file = %q, want abc (from stage 0)", got)
	}
	if got, _ := os.ReadFile(filepath.Join(img.Layers[1].Dir, "group")); !strings.HasPrefix(string(got), "root:") {
		t.Errorf("group = %q, want busybox's /etc/group (COPY --from=IMAGE)", got)
	}
	// The first stage's layers: the tar of "rm -r /etc; mkdir /etc" holds an
	// opaque marker, the one of "rm /bin/ls" a whiteout.
	var names []string
	blobs, _ := filepath.Glob(filepath.Join(s.Root(), "blobs/sha256/*"))
	for _, p := range blobs {
		f, _ := os.Open(p)
		tr := tar.NewReader(f)
		for {
			h, err := tr.Next()
			if err != nil {
				break
			}
			names = append(names, h.Name)
			if h.Name == "home/owned" && (h.Uid != 65534 || h.Gid != 65534) {
				t.Errorf("COPY --chown=nobody:nobody made home/owned %d:%d, want 65534:65534", h.Uid, h.Gid)
			}
		}
		f.Close()
	}
	for _, want := range []string{"etc/.wh..wh..opq", "bin/.wh.ls", "opt/pkg/file", "home/owned", "ctx/.hidden", "ctx/Dockerfile"} {
		if !slices.Contains(names, want) {
			t.Errorf("no layer has %s", want)
		}
	}
}

// TestBuildArgsAndInterimRun builds with --build-arg, once through the
// runtime and once through the lighter RUN helper: both make the same
// one-file layer.
func TestBuildArgsAndInterimRun(t *testing.T) {
	s := busyboxStore(t)
	ctxDir := writeContext(t, map[string]string{"Dockerfile": "FROM busybox\nARG MSG=default\nRUN echo \"$MSG\" > /msg\n"})
	for _, runtime := range []bool{true, false} {
		useRuntime = runtime
		t.Cleanup(func() { useRuntime = true })
		res, err := Build(t.Context(), Options{Store: s, StateDir: filepath.Dir(s.Root()), ContextDir: ctxDir,
			BuildArgs: map[string]string{"MSG": "given"}, NoCache: true})
		if err != nil {
			t.Fatalf("runtime %v: %v", runtime, err)
		}
		img, _ := s.Get(res.ID.String())
		top := img.Layers[len(img.Layers)-1]
		if got, _ := os.ReadFile(filepath.Join(top.Dir, "msg")); string(got) != "given\n" {
			t.Errorf("runtime %v: /msg = %q, want the --build-arg value", runtime, got)
		}
		if entries, _ := os.ReadDir(top.Dir); len(entries) != 1 {
			t.Errorf("runtime %v: the RUN layer holds %d entries, want only msg", runtime, len(entries))
		}
	}
}

// BenchmarkRebuildCached measures an unchanged rebuild of a small
// Dockerfile: every step from the cache.
func BenchmarkRebuildCached(b *testing.B) {
	kerneltest.Requires(b, kerneltest.Root, kerneltest.Module("overlay"))
	s, err := image.Open(filepath.Join(b.TempDir(), "images"))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.ImportBusybox("", "busybox", image.Options{}); err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	os.WriteFile(filepath.Join(dir, "a"), []byte("a"), 0o644)
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM busybox\nCOPY a /a\nRUN cat /a > /b\nCMD [\"cat\", \"/b\"]\n"), 0o644)
	opts := Options{Store: s, StateDir: filepath.Dir(s.Root()), ContextDir: dir, Tag: "lab-t-c-bench"}
	if _, err := Build(b.Context(), opts); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if res, err := Build(b.Context(), opts); err != nil || res.NewLayers != 0 {
			b.Fatalf("rebuild: %d new layers, %v", res.NewLayers, err)
		}
	}
}

// TestCleanupPrunesCacheOfDeletedLayers: once `lab image rm` deleted the
// layers, Cleanup drops the cache entries pointing at them, and a rebuild
// runs the steps again instead of failing.
func TestCleanupPrunesCacheOfDeletedLayers(t *testing.T) {
	s := busyboxStore(t)
	ctxDir := writeContext(t, map[string]string{"Dockerfile": "FROM busybox\nCOPY a /a\nCMD [\"cat\", \"/a\"]\n", "a": "a"})
	if b := build(t, s, ctxDir, "lab-t-c-gc"); b.err != nil {
		t.Fatal(b.err)
	}
	layerEntries := func() int {
		n := 0
		files, _ := filepath.Glob(filepath.Join(s.Root(), "buildcache", "*.json"))
		for _, f := range files {
			if raw, _ := os.ReadFile(f); bytes.Contains(raw, []byte("diff_id")) {
				n++
			}
		}
		return n
	}
	if n := layerEntries(); n != 1 {
		t.Fatalf("%d cache entries with a layer, want 1 (the COPY)", n)
	}
	if _, _, err := s.Remove("lab-t-c-gc"); err != nil {
		t.Fatal(err)
	}
	if err := Cleanup(s.Root()); err != nil {
		t.Fatal(err)
	}
	if n := layerEntries(); n != 0 {
		t.Errorf("%d cache entries still point at deleted layers", n)
	}
	again := build(t, s, ctxDir, "lab-t-c-gc")
	if again.err != nil || again.res.NewLayers != 1 {
		t.Errorf("rebuild after rm: %d new layers, %v", again.res.NewLayers, again.err)
	}
}

// TestBuildRepeatedAndEmptyLayers: a step that changes nothing makes no
// layer, and a layer identical to an earlier one (COPY keeps the file's
// time, so copying again after a delete gives the same tar) still stacks.
func TestBuildRepeatedAndEmptyLayers(t *testing.T) {
	s := busyboxStore(t)
	ctxDir := writeContext(t, map[string]string{"a": "a\n", "Dockerfile": `FROM busybox
COPY a /a
RUN rm /a
COPY a /a
RUN echo nothing changes
RUN cat /a > /b
CMD ["cat", "/b"]
`})
	b := build(t, s, ctxDir, "lab-t-c-rep")
	if b.err != nil {
		t.Fatalf("%v\n%s%s", b.err, b.progress, b.out)
	}
	img, _ := s.Get("lab-t-c-rep")
	if len(img.Layers) != 5 { // busybox, COPY, RUN rm, COPY (same as the first), RUN cat
		t.Fatalf("%d layers, want 5:\n%s", len(img.Layers), b.progress)
	}
	if img.Layers[1].DiffID != img.Layers[3].DiffID {
		t.Errorf("the two COPY layers differ: %s, %s", img.Layers[1].DiffID, img.Layers[3].DiffID)
	}
	if !strings.Contains(b.progress, "no change, no layer") {
		t.Errorf("RUN echo made a layer:\n%s", b.progress)
	}
	if got := runImage(t, s, "lab-t-c-rep"); got != "a\n" {
		t.Errorf("CMD printed %q, want a", got)
	}
}

// TestBuildHonorsDockerignore: excluded files are not copied, cannot be
// named, and editing them keeps the cache.
func TestBuildHonorsDockerignore(t *testing.T) {
	s := busyboxStore(t)
	ctxDir := writeContext(t, map[string]string{"Dockerfile": "FROM busybox\nCOPY . /ctx/\n",
		".dockerignore": "secret\nbuild\n!build/keep\n", "secret": "s", "build/out": "o", "build/keep": "k", "src/a": "a"})
	b := build(t, s, ctxDir, "lab-t-c-ign")
	if b.err != nil {
		t.Fatal(b.err)
	}
	img, _ := s.Get("lab-t-c-ign")
	names := tarNames(t, filepath.Join(s.Root(), "blobs", "sha256", img.Layers[len(img.Layers)-1].DiffID.Encoded()))
	for name, want := range map[string]bool{"ctx/src/a": true, "ctx/build/keep": true, "ctx/secret": false, "ctx/build/out": false} {
		if slices.Contains(names, name) != want {
			t.Errorf("layer has %s: %v, want %v (%v)", name, !want, want, names)
		}
	}
	os.WriteFile(filepath.Join(ctxDir, "secret"), []byte("changed"), 0o644)
	if again := build(t, s, ctxDir, "lab-t-c-ign"); again.err != nil || again.res.NewLayers != 0 {
		t.Errorf("editing an ignored file rebuilt: %d new layers, %v", again.res.NewLayers, again.err)
	}
	os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), []byte("FROM busybox\nCOPY secret /x\n"), 0o644)
	if bad := build(t, s, ctxDir, "lab-t-c-ign"); bad.err == nil || !strings.Contains(bad.err.Error(), ".dockerignore") {
		t.Errorf("COPY of an ignored file: %v, want a refusal naming .dockerignore", bad.err)
	}
}

func tarNames(t *testing.T, p string) []string {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var names []string
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err != nil {
			return names
		}
		names = append(names, h.Name)
	}
}
