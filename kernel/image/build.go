package image

import (
	"archive/tar"
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// DefaultBusybox is where Debian's busybox-static installs its binary.
const DefaultBusybox = "/bin/busybox"

// Options tune an import, load or save.
type Options struct {
	// Progress, when set, receives a copy of every byte processed (a
	// progress bar implements io.Writer).
	Progress io.Writer
}

// Imported says what an import or load added.
type Imported struct {
	Names  []string
	ID     digest.Digest
	Layers []digest.Digest // DiffIDs, bottom-most first
}

// Import stores a root filesystem tar (uncompressed) as a one-layer image
// named name, like `docker import FILE NAME`. The layer's DiffID is the
// sha256 of the tar, the same as `sha256sum FILE` prints.
func (s *Store) Import(r io.Reader, name, createdBy string, opts Options) (Imported, error) {
	n, err := NormalizeName(name)
	if err != nil {
		return Imported{}, err
	}
	t, err := s.begin(opts.Progress)
	if err != nil {
		return Imported{}, err
	}
	defer t.abort()
	diffID, size, err := t.putLayer(r, "")
	if err != nil {
		return Imported{}, err
	}
	now := time.Now().UTC().Truncate(time.Second)
	cfg := ocispec.Image{
		Created:  &now,
		Platform: ocispec.Platform{Architecture: runtime.GOARCH, OS: "linux"},
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{diffID}},
		History:  []ocispec.History{{Created: &now, CreatedBy: createdBy, Comment: "Imported from tarball"}},
	}
	return t.finishImage(cfg, []ocispec.Descriptor{layerDesc(diffID, size)}, n)
}

// ImportBusybox builds a base image offline from a static busybox binary
// (DefaultBusybox when bin is empty): one layer with /bin/busybox, a hard
// link for each applet it lists (busybox --list-full), the usual
// directories and a minimal /etc/passwd and /etc/group. The layer is
// reproducible: the same binary always gives the same digests, so a
// second import shares everything with the first.
func (s *Store) ImportBusybox(bin, name string, opts Options) (Imported, error) {
	if bin == "" {
		bin = DefaultBusybox
	}
	n, err := NormalizeName(name)
	if err != nil {
		return Imported{}, err
	}
	fi, err := os.Stat(bin)
	if err != nil {
		return Imported{}, fmt.Errorf("busybox binary: %w (install busybox-static)", err)
	}
	applets, version, err := busyboxApplets(bin)
	if err != nil {
		return Imported{}, err
	}
	t, err := s.begin(opts.Progress)
	if err != nil {
		return Imported{}, err
	}
	defer t.abort()
	mtime := fi.ModTime().UTC().Truncate(time.Second)
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeBusyboxLayer(pw, bin, applets, mtime)) }()
	diffID, size, err := t.putLayer(pr, "")
	pr.CloseWithError(io.ErrClosedPipe)
	if err != nil {
		return Imported{}, err
	}
	cfg := ocispec.Image{
		Created:  &mtime,
		Platform: ocispec.Platform{Architecture: runtime.GOARCH, OS: "linux"},
		Config: ocispec.ImageConfig{
			Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
			Cmd: []string{"sh"},
		},
		RootFS:  ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{diffID}},
		History: []ocispec.History{{Created: &mtime, CreatedBy: "lab image import-busybox " + bin + " (" + version + ")"}},
	}
	return t.finishImage(cfg, []ocispec.Descriptor{layerDesc(diffID, size)}, n)
}

func layerDesc(diffID digest.Digest, size int64) ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: diffID, Size: size}
}

// finishImage stages the config and manifest and commits.
func (t *txn) finishImage(cfg ocispec.Image, layers []ocispec.Descriptor, name string) (Imported, error) {
	raw, err := json.Marshal(cfg)
	if err != nil {
		return Imported{}, err
	}
	if _, err := t.putImage(raw, layers, []string{name}); err != nil {
		return Imported{}, err
	}
	if err := t.commit(); err != nil {
		return Imported{}, err
	}
	return Imported{Names: []string{name}, ID: digest.FromBytes(raw), Layers: cfg.RootFS.DiffIDs}, nil
}

// busyboxApplets asks the binary for its applets, as paths like
// "bin/sh" and "usr/bin/wc", and for its version line.
func busyboxApplets(bin string) ([]string, string, error) {
	out, err := exec.Command(bin, "--list-full").Output()
	if err != nil {
		return nil, "", fmt.Errorf("list busybox applets: %w", err)
	}
	var applets []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		p := path.Clean(strings.TrimPrefix(sc.Text(), "/"))
		if p != "." && p != "bin/busybox" && !strings.HasPrefix(p, "..") {
			applets = append(applets, p)
		}
	}
	slices.Sort(applets)
	help, _ := exec.Command(bin, "--help").Output()
	version, _, _ := strings.Cut(string(help), "\n")
	version = strings.TrimSuffix(strings.TrimSpace(version), " multi-call binary.")
	return slices.Compact(applets), version, nil
}

// writeBusyboxLayer writes the busybox root filesystem as a tar.
func writeBusyboxLayer(w io.Writer, bin string, applets []string, mtime time.Time) error {
	tw := tar.NewWriter(w)
	dirs := map[string]int64{"bin": 0o755, "dev": 0o755, "etc": 0o755, "home": 0o755, "proc": 0o555,
		"root": 0o700, "sys": 0o555, "tmp": 0o1777, "usr": 0o755, "usr/bin": 0o755, "usr/sbin": 0o755,
		"sbin": 0o755, "var": 0o755, "var/tmp": 0o1777}
	for _, a := range applets {
		for d := path.Dir(a); d != "."; d = path.Dir(d) {
			if _, ok := dirs[d]; !ok {
				dirs[d] = 0o755
			}
		}
	}
	names := make([]string, 0, len(dirs))
	for d := range dirs {
		names = append(names, d)
	}
	slices.Sort(names)
	for _, d := range names {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: dirs[d], ModTime: mtime, Format: tar.FormatPAX}); err != nil {
			return err
		}
	}
	files := []struct {
		name string
		body string
	}{
		{"etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n"},
		{"etc/group", "root:x:0:\nnobody:x:65534:\n"},
	}
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: f.name, Mode: 0o644, Size: int64(len(f.body)), ModTime: mtime, Format: tar.FormatPAX}); err != nil {
			return err
		}
		if _, err := io.WriteString(tw, f.body); err != nil {
			return err
		}
	}
	src, err := os.Open(bin)
	if err != nil {
		return err
	}
	defer src.Close()
	fi, err := src.Stat()
	if err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "bin/busybox", Mode: 0o755, Size: fi.Size(), ModTime: mtime, Format: tar.FormatPAX}); err != nil {
		return err
	}
	if _, err := io.Copy(tw, src); err != nil {
		return err
	}
	// Every applet is a hard link to the one binary, as in Docker Hub's
	// busybox image: busybox looks at argv[0] to know what to be.
	for _, a := range applets {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeLink, Name: a, Linkname: "bin/busybox", ModTime: mtime, Format: tar.FormatPAX}); err != nil {
			return err
		}
	}
	return tw.Close()
}
