package image_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/lab-edu/lab/kernel/image"
	"github.com/lab-edu/lab/kernel/kerneltest"
	"github.com/lab-edu/lab/kernel/overlay"
)

// upperDir makes what an overlay upper dir holds after a container ran:
// a new file, a hard link, a symlink, a whiteout and an opaque directory.
func upperDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "etc/app"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "etc/app/conf"), []byte("x=1\n"), 0o640))
	must(os.Link(filepath.Join(dir, "etc/app/conf"), filepath.Join(dir, "etc/app/conf.bak")))
	must(os.Symlink("/etc/app/conf", filepath.Join(dir, "etc/conf")))
	must(os.Mkdir(filepath.Join(dir, "bin"), 0o755))
	must(overlay.MakeWhiteout(filepath.Join(dir, "bin/ls")))
	must(os.Mkdir(filepath.Join(dir, "var"), 0o755))
	must(overlay.SetOpaque(filepath.Join(dir, "var")))
	return dir
}

func TestWriteLayerRoundTrip(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root)
	upper := upperDir(t)
	var first, second bytes.Buffer
	if err := image.WriteLayer(&first, upper); err != nil {
		t.Fatal(err)
	}
	if err := image.WriteLayer(&second, upper); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.Bytes(), second.Bytes()) {
		t.Error("WriteLayer is not deterministic: two archives of the same dir differ")
	}
	// Unpacking the tar gives the overlayfs marks back.
	out := t.TempDir()
	if err := image.Unpack(bytes.NewReader(first.Bytes()), out); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(filepath.Join(out, "bin/ls"))
	if err != nil || !overlay.IsWhiteout(fi) {
		t.Errorf("bin/ls after a round trip: %v, %v; want a whiteout", fi, err)
	}
	if opaque, err := overlay.IsOpaque(filepath.Join(out, "var")); err != nil || !opaque {
		t.Errorf("var after a round trip: opaque %v, %v", opaque, err)
	}
	a, _ := os.Stat(filepath.Join(out, "etc/app/conf"))
	b, _ := os.Stat(filepath.Join(out, "etc/app/conf.bak"))
	if !os.SameFile(a, b) || a.Mode().Perm() != 0o640 {
		t.Errorf("hard link or mode lost: same %v, mode %v", os.SameFile(a, b), a.Mode())
	}
	if target, _ := os.Readlink(filepath.Join(out, "etc/conf")); target != "/etc/app/conf" {
		t.Errorf("symlink target = %q", target)
	}
	// Skipping leaves entries (and whole directories) out.
	var skipped bytes.Buffer
	if err := image.WriteLayerSkipping(&skipped, upper, func(n string) bool { return n == "etc" }); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(skipped.Bytes(), []byte("etc/app/conf")) {
		t.Error("WriteLayerSkipping kept a skipped directory's files")
	}
}

func TestChangeAddsLayerAndImageAtomically(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Root)
	s, err := image.Open(filepath.Join(t.TempDir(), "images"))
	if err != nil {
		t.Fatal(err)
	}
	var layer bytes.Buffer
	if err := image.WriteLayer(&layer, upperDir(t)); err != nil {
		t.Fatal(err)
	}
	// Aborted: nothing visible, nothing left.
	ch, err := s.Begin(image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	d, _, err := ch.AddLayer(bytes.NewReader(layer.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	ch.Abort()
	if _, ok := s.Layer(d); ok {
		t.Fatal("an aborted change left its layer in the store")
	}
	// An image must name layers the store has.
	ch, _ = s.Begin(image.Options{})
	if _, err := ch.AddImage(ocispec.Image{RootFS: ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{digest.FromString("nope")}}}, "lab-x"); err == nil {
		t.Error("AddImage accepted a layer the store does not have")
	}
	ch.Abort()
	// Committed: the layer and the named image are there.
	ch, _ = s.Begin(image.Options{})
	defer ch.Abort()
	d, size, err := ch.AddLayer(bytes.NewReader(layer.Bytes()))
	if err != nil || size != int64(layer.Len()) || d != digest.FromBytes(layer.Bytes()) {
		t.Fatalf("AddLayer = %s, %d, %v", d, size, err)
	}
	id, err := ch.AddImage(ocispec.Image{RootFS: ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{d}}}, "lab-x:v1")
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Commit(); err != nil {
		t.Fatal(err)
	}
	img, err := s.Get("lab-x:v1")
	if err != nil || img.ID != id || !slices.Equal(img.Config.RootFS.DiffIDs, []digest.Digest{d}) {
		t.Fatalf("Get = %+v, %v", img, err)
	}
	if l, ok := s.Layer(d); !ok || l.Dir == "" {
		t.Errorf("Layer(%s) = %+v, %v", d, l, ok)
	}
}

func TestLowerDirsListsARepeatedLayerOnce(t *testing.T) {
	img := image.Image{Layers: []image.Layer{{Dir: "/l/a"}, {Dir: "/l/b"}, {Dir: "/l/a"}, {Dir: "/l/c"}}}
	if got, want := img.LowerDirs(), []string{"/l/c", "/l/a", "/l/b"}; !slices.Equal(got, want) {
		t.Errorf("LowerDirs() = %v, want %v (top-most first, the repeated layer once, at its top-most place)", got, want)
	}
}
