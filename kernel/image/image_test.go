package image_test

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lab-edu/lab/kernel/image"
	"github.com/lab-edu/lab/kernel/kerneltest"
	"github.com/lab-edu/lab/kernel/overlay"
)

func TestNormalizeName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"busybox", "busybox:latest"},
		{"busybox:1.36", "busybox:1.36"},
		{"docker.io/library/busybox:1", "busybox:1"},
		{"index.docker.io/library/alpine", "alpine:latest"},
		{"lab-hello", "lab-hello:latest"},
		{"ghcr.io/org/app:v1", "ghcr.io/org/app:v1"},
		{"localhost:5000/app", "localhost:5000/app:latest"},
	}
	for _, tt := range tests {
		got, err := image.NormalizeName(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("NormalizeName(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "Busybox", "a b", "busybox@sha256:00", "-x"} {
		if got, err := image.NormalizeName(bad); err == nil {
			t.Errorf("NormalizeName(%q) = %q, want an error", bad, got)
		}
	}
}

// entry is one tar entry of a hand-written archive.
type entry struct {
	name, body, link string
	typ              byte
	mode             int64
}

func tarOf(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.link, Mode: e.mode, Size: int64(len(e.body))}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if h.Typeflag != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sha(b []byte) string { return fmt.Sprintf("sha256:%x", sha256.Sum256(b)) }

// dockerSave writes a `docker save` style archive by hand: one config,
// the layer tars as <hex>/layer.tar (the classic docker layout), and
// manifest.json. diffIDs are what the config claims.
func dockerSave(t testing.TB, repoTag string, layers [][]byte, diffIDs []string) []byte {
	t.Helper()
	if diffIDs == nil {
		for _, l := range layers {
			diffIDs = append(diffIDs, sha(l))
		}
	}
	cfg, _ := json.Marshal(map[string]any{
		"architecture": "amd64", "os": "linux",
		"config":  map[string]any{"Cmd": []string{"sh"}},
		"rootfs":  map[string]any{"type": "layers", "diff_ids": diffIDs},
		"history": []map[string]any{{"created_by": "hand-written fixture"}},
	})
	cfgName := strings.TrimPrefix(sha(cfg), "sha256:") + ".json"
	var entries []entry
	entries = append(entries, entry{name: cfgName, body: string(cfg)})
	var layerFiles []string
	for i, l := range layers {
		name := fmt.Sprintf("layer%d/layer.tar", i)
		entries = append(entries, entry{name: fmt.Sprintf("layer%d/", i), typ: tar.TypeDir, mode: 0o755})
		entries = append(entries, entry{name: name, body: string(l)})
		layerFiles = append(layerFiles, name)
	}
	manifest, _ := json.Marshal([]map[string]any{{"Config": cfgName, "RepoTags": []string{repoTag}, "Layers": layerFiles}})
	entries = append(entries, entry{name: "manifest.json", body: string(manifest)})
	return tarOf(t, entries...)
}

func writeFile(t testing.TB, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "archive.tar")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// listing is every path under dir with its type and size: the store
// before and after a refused load must be identical.
func listing(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, _ := d.Info()
		out = append(out, fmt.Sprintf("%s %s %d", p, fi.Mode().Type(), fi.Size()))
		return nil
	})
	return out
}

func openStore(t testing.TB) *image.Store {
	t.Helper()
	kerneltest.Requires(t, kerneltest.Root) // whiteouts need mknod, layers keep owners
	s, err := image.Open(filepath.Join(t.TempDir(), "images"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLoadDockerSaveFixture(t *testing.T) {
	s := openStore(t)
	base := tarOf(t,
		entry{name: "etc/", typ: tar.TypeDir, mode: 0o755},
		entry{name: "etc/motd", body: "hello\n"},
		entry{name: "etc/old", body: "old\n"},
		entry{name: "app/", typ: tar.TypeDir, mode: 0o755},
		entry{name: "app/a", body: "a\n"},
		entry{name: "bin/sh", link: "/bin/busybox", typ: tar.TypeSymlink},
	)
	top := tarOf(t,
		entry{name: "etc/.wh.old"},
		entry{name: "app/.wh..wh..opq"},
		entry{name: "app/b", body: "b\n"},
		entry{name: "etc/motd", body: "changed\n"},
		entry{name: "etc/motd2", link: "etc/motd", typ: tar.TypeLink},
	)
	got, err := s.Load(writeFile(t, dockerSave(t, "lab-fixture:v1", [][]byte{base, top}, nil)), image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !slices.Equal(got[0].Names, []string{"lab-fixture:v1"}) {
		t.Fatalf("Load = %+v, want one image lab-fixture:v1", got)
	}
	img, err := s.Get("lab-fixture:v1")
	if err != nil {
		t.Fatal(err)
	}
	if len(img.Layers) != 2 || img.Layers[0].DiffID.String() != sha(base) || img.Layers[1].DiffID.String() != sha(top) {
		t.Fatalf("layers = %+v, want %s then %s", img.Layers, sha(base), sha(top))
	}
	topDir := img.Layers[1].Dir
	fi, err := os.Lstat(filepath.Join(topDir, "etc/old"))
	if err != nil || !overlay.IsWhiteout(fi) {
		t.Errorf("etc/old in the top layer is not a whiteout (%v, %v)", fi, err)
	}
	if ok, err := overlay.IsOpaque(filepath.Join(topDir, "app")); !ok || err != nil {
		t.Errorf("IsOpaque(app) = %v, %v, want true", ok, err)
	}
	if link, _ := os.Readlink(filepath.Join(img.Layers[0].Dir, "bin/sh")); link != "/bin/busybox" {
		t.Errorf("bin/sh -> %q, want /bin/busybox", link)
	}
	if !slices.Equal(img.LowerDirs(), []string{img.Layers[1].Dir, img.Layers[0].Dir}) {
		t.Errorf("LowerDirs = %v, want top-most first", img.LowerDirs())
	}
	// The merged view of the image is what a container sees.
	merged := t.TempDir()
	if err := overlay.Mount(overlay.Layers{Lower: img.LowerDirs()}, merged); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = overlay.Unmount(merged) })
	for p, want := range map[string]string{"etc/motd": "changed\n", "etc/motd2": "changed\n", "app/b": "b\n"} {
		if b, err := os.ReadFile(filepath.Join(merged, p)); string(b) != want {
			t.Errorf("merged %s = %q, %v, want %q", p, b, err, want)
		}
	}
	for _, p := range []string{"etc/old", "app/a"} {
		if _, err := os.Lstat(filepath.Join(merged, p)); err == nil {
			t.Errorf("merged %s exists, want it hidden", p)
		}
	}
}

func TestSaveLoadRoundTripKeepsDigests(t *testing.T) {
	for _, format := range []image.Format{image.DockerArchive, image.OCIArchive} {
		t.Run(string(format), func(t *testing.T) {
			s := openStore(t)
			if _, err := s.ImportBusybox("", "lab-bb", image.Options{}); err != nil {
				t.Fatal(err)
			}
			before, err := s.Get("lab-bb")
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := s.Save([]string{"lab-bb"}, &buf, format, image.Options{}); err != nil {
				t.Fatal(err)
			}
			s2 := openStore(t)
			if _, err := s2.Load(writeFile(t, buf.Bytes()), image.Options{}); err != nil {
				t.Fatal(err)
			}
			after, err := s2.Get("lab-bb:latest")
			if err != nil {
				t.Fatal(err)
			}
			if after.ID != before.ID || after.Manifest.Digest != before.Manifest.Digest {
				t.Errorf("after round trip: ID %s manifest %s, want %s %s", after.ID, after.Manifest.Digest, before.ID, before.Manifest.Digest)
			}
			if len(after.Layers) != 1 || after.Layers[0].DiffID != before.Layers[0].DiffID {
				t.Errorf("layers %v, want %v", after.Layers, before.Layers)
			}
			// Saving again gives the same bytes: nothing drifts.
			var again bytes.Buffer
			if err := s2.Save([]string{"lab-bb"}, &again, format, image.Options{}); err != nil {
				t.Fatal(err)
			}
			if format == image.OCIArchive && !bytes.Equal(buf.Bytes(), again.Bytes()) {
				t.Errorf("second save differs from the first")
			}
		})
	}
}

func TestBadArchivesLeaveStoreUnchanged(t *testing.T) {
	good := tarOf(t, entry{name: "etc/", typ: tar.TypeDir, mode: 0o755}, entry{name: "etc/motd", body: "hello\n"})
	goodArchive := dockerSave(t, "lab-ok", [][]byte{good}, nil)
	tests := []struct {
		name    string
		archive []byte
		wantErr string
	}{
		{"truncated archive", goodArchive[:len(goodArchive)-1536], "truncated"},
		{"truncated layer", dockerSave(t, "lab-bad", [][]byte{good[:len(good)-1024]}, []string{sha(good)}), "digest mismatch"},
		{"layer digest mismatch", dockerSave(t, "lab-bad", [][]byte{good}, []string{sha([]byte("other"))}), "digest mismatch"},
		{"dot-dot entry", dockerSave(t, "lab-bad", [][]byte{tarOf(t, entry{name: "../../etc/passwd", body: "x"})}, nil), "path traversal"},
		{"absolute entry", dockerSave(t, "lab-bad", [][]byte{tarOf(t, entry{name: "/etc/passwd", body: "x"})}, nil), "path traversal"},
		{"write through absolute symlink", dockerSave(t, "lab-bad", [][]byte{tarOf(t,
			entry{name: "evil", link: "/etc", typ: tar.TypeSymlink},
			entry{name: "evil/passwd", body: "x"})}, nil), "goes through the symlink evil -> /etc"},
		{"relative symlink out", dockerSave(t, "lab-bad", [][]byte{tarOf(t,
			entry{name: "a/evil", link: "../../../etc", typ: tar.TypeSymlink})}, nil), "points outside the layer"},
		{"hard link out", dockerSave(t, "lab-bad", [][]byte{tarOf(t,
			entry{name: "passwd", link: "../../etc/passwd", typ: tar.TypeLink})}, nil), "outside the layer"},
		{"hard link through symlink", dockerSave(t, "lab-bad", [][]byte{tarOf(t,
			entry{name: "evil", link: "/etc", typ: tar.TypeSymlink},
			entry{name: "passwd", link: "evil/passwd", typ: tar.TypeLink})}, nil), "goes through the symlink"},
		{"not an image", tarOf(t, entry{name: "hello.txt", body: "hi"}), "neither a docker save"},
		{"not a tar", []byte("this is not a tar archive at all, just text"), "not a valid tar"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t)
			if _, err := s.ImportBusybox("", "lab-base", image.Options{}); err != nil {
				t.Fatal(err)
			}
			before := listing(t, s.Root())
			_, err := s.Load(writeFile(t, tt.archive), image.Options{})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Load = %v, want an error containing %q", err, tt.wantErr)
			}
			if after := listing(t, s.Root()); !slices.Equal(before, after) {
				t.Errorf("store changed:\nbefore %v\nafter  %v", before, after)
			}
			if _, err := os.Stat("/etc/passwd"); err != nil {
				t.Fatal("/etc/passwd is gone!")
			}
		})
	}
}

func TestImportKeepsSha256sumDigest(t *testing.T) {
	s := openStore(t)
	layer := tarOf(t, entry{name: "hello.txt", body: "hello\n"})
	imp, err := s.Import(bytes.NewReader(layer), "lab-hello", "lab image import hello.tar", image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if imp.Layers[0].String() != sha(layer) {
		t.Errorf("DiffID = %s, want sha256sum of the tar %s", imp.Layers[0], sha(layer))
	}
	h, err := s.History("lab-hello")
	if err != nil || len(h) != 1 || h[0].DiffID.String() != sha(layer) || h[0].Size != int64(len(layer)) {
		t.Errorf("History = %+v, %v", h, err)
	}
	// A truncated plain tar is refused too.
	before := listing(t, s.Root())
	if _, err := s.Import(bytes.NewReader(layer[:512+512]), "lab-cut", "", image.Options{}); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("Import(truncated) = %v, want a truncated error", err)
	}
	if after := listing(t, s.Root()); !slices.Equal(before, after) {
		t.Errorf("store changed by a refused import")
	}
}

func TestTagRemoveSharesLayers(t *testing.T) {
	s := openStore(t)
	a, err := s.ImportBusybox("", "lab-a", image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.ImportBusybox("", "lab-b", image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != b.ID {
		t.Fatalf("two imports of the same busybox differ: %s %s", a.ID, b.ID)
	}
	if err := s.Tag("lab-a", "lab-c:v2"); err != nil {
		t.Fatal(err)
	}
	all, err := s.List()
	if err != nil || len(all) != 1 || !slices.Equal(all[0].Names, []string{"lab-a:latest", "lab-b:latest", "lab-c:v2"}) {
		t.Fatalf("List = %+v, %v; want one image with three names", all, err)
	}
	layerDir := all[0].Layers[0].Dir
	for _, n := range []string{"lab-a", "lab-b"} {
		if _, _, err := s.Remove(n); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(layerDir); err != nil {
			t.Fatalf("layer removed while lab-c still uses it: %v", err)
		}
	}
	if _, deleted, err := s.Remove("lab-c:v2"); err != nil || len(deleted) != 3 {
		t.Fatalf("Remove(last name) deleted %v, %v; want manifest, config and layer", deleted, err)
	}
	if _, err := os.Stat(layerDir); err == nil {
		t.Errorf("layer dir %s still there after its last image went", layerDir)
	}
	if _, err := s.Get("lab-a"); err == nil {
		t.Errorf("Get(lab-a) found a removed image")
	}
}

func BenchmarkImportBusybox(b *testing.B) {
	kerneltest.Requires(b, kerneltest.Root)
	for b.Loop() {
		s, err := image.Open(filepath.Join(b.TempDir(), "images"))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.ImportBusybox("", "busybox", image.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPrepareContainer measures what starting a container costs in
// the filesystem: an upper and work dir, the overlay mount over the
// busybox image's layers, and the unmount.
func BenchmarkPrepareContainer(b *testing.B) {
	kerneltest.Requires(b, kerneltest.Root, kerneltest.Filesystem("overlay"))
	s, err := image.Open(filepath.Join(b.TempDir(), "images"))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.ImportBusybox("", "busybox", image.Options{}); err != nil {
		b.Fatal(err)
	}
	img, err := s.Get("busybox")
	if err != nil {
		b.Fatal(err)
	}
	base := b.TempDir()
	i := 0
	for b.Loop() {
		i++
		dir := filepath.Join(base, fmt.Sprint(i))
		l := overlay.Layers{Lower: img.LowerDirs(), Upper: dir + "/upper", Work: dir + "/work"}
		for _, d := range []string{l.Upper, l.Work, dir + "/merged"} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				b.Fatal(err)
			}
		}
		if err := overlay.Mount(l, dir+"/merged"); err != nil {
			b.Fatal(err)
		}
		if err := overlay.Unmount(dir + "/merged"); err != nil {
			b.Fatal(err)
		}
	}
}

// TestLoadOCITamperedBlob: a layer blob of an OCI layout changed after
// the manifest was written is refused by its digest.
func TestLoadOCITamperedBlob(t *testing.T) {
	s := openStore(t)
	layer := tarOf(t, entry{name: "hello.txt", body: "hello\n"})
	if _, err := s.Import(bytes.NewReader(layer), "lab-oci", "test", image.Options{}); err != nil {
		t.Fatal(err)
	}
	var archive bytes.Buffer
	if err := s.Save([]string{"lab-oci"}, &archive, image.OCIArchive, image.Options{}); err != nil {
		t.Fatal(err)
	}
	// Rewrite the archive with one byte of the layer blob changed.
	layerBlob := "blobs/sha256/" + strings.TrimPrefix(sha(layer), "sha256:")
	var tampered bytes.Buffer
	tr, tw := tar.NewReader(&archive), tar.NewWriter(&tampered)
	found := false
	for {
		hdr, err := tr.Next()
		if err != nil {
			break
		}
		body := new(bytes.Buffer)
		_, _ = body.ReadFrom(tr)
		b := body.Bytes()
		if hdr.Name == layerBlob {
			b[600] ^= 0xff // inside hello.txt's data
			found = true
		}
		_ = tw.WriteHeader(hdr)
		_, _ = tw.Write(b)
	}
	_ = tw.Close()
	if !found {
		t.Fatalf("no %s in the OCI archive", layerBlob)
	}
	s2 := openStore(t)
	before := listing(t, s2.Root())
	_, err := s2.Load(writeFile(t, tampered.Bytes()), image.Options{})
	if err == nil || !strings.Contains(err.Error(), "digest mismatch") {
		t.Fatalf("Load(tampered) = %v, want a digest mismatch", err)
	}
	if after := listing(t, s2.Root()); !slices.Equal(before, after) {
		t.Errorf("store changed by a refused load:\nbefore %v\nafter  %v", before, after)
	}
}

// TestStaleStagingRemoved: a staging dir left by a killed lab goes at the
// next change.
func TestStaleStagingRemoved(t *testing.T) {
	s := openStore(t)
	stale := filepath.Join(s.Root(), "tmp-12345")
	if err := os.MkdirAll(filepath.Join(stale, "unpack-1"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Import(bytes.NewReader(tarOf(t, entry{name: "a", body: "a"})), "lab-a", "test", image.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); err == nil {
		t.Errorf("%s is still there", stale)
	}
}
