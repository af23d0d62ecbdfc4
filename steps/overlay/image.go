package overlaylab

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/kernel/image"
	"github.com/lab-edu/lab/steps"
)

// imageName is the image the learner builds.
const imageName = "lab-hello"

// Image: a layer made by hand with tar, named by its sha256.
var Image = steps.Step{
	ID:    "overlay/image",
	Title: "Build an image layer by hand",
	Check: checkImage,
	Solve: func(ctx context.Context, env *steps.Env) error {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		body := "hello from my layer\n"
		for _, h := range []*tar.Header{
			{Typeflag: tar.TypeDir, Name: "etc/", Mode: 0o755},
			{Typeflag: tar.TypeReg, Name: "etc/motd", Mode: 0o644, Size: int64(len(body))},
		} {
			if err := tw.WriteHeader(h); err != nil {
				return err
			}
		}
		if _, err := io.WriteString(tw, body); err != nil {
			return err
		}
		if err := tw.Close(); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(env.Dir, "hello.tar"), buf.Bytes(), 0o644); err != nil {
			return err
		}
		s, err := image.Open(storeOf(env.Host))
		if err != nil {
			return err
		}
		_, err = s.Import(&buf, imageName, "lab image import hello.tar", image.Options{})
		return err
	},
	Cleanup: func(ctx context.Context, env *steps.Env) error {
		if err := removeLabImages(storeOf(env.Host)); err != nil {
			return err
		}
		return removeAll(env.Dir, "hello", "hello.tar")
	},
}

// checkImage hashes WORK/hello.tar itself and looks for a layer with that
// digest in image lab-hello; it then hashes the stored layer blob too, so
// the store really holds those bytes, and checks the layer is unpacked.
func checkImage(ctx context.Context, h checker.Host) checker.Result {
	const name = "image " + imageName
	dir := workOf(h)
	tarPath := filepath.Join(dir, "hello.tar")
	importCmd := "lab image import " + tarPath + " " + imageName
	sum, err := sha256File(h, tarPath)
	if errors.Is(err, fs.ErrNotExist) {
		return checker.Failed(name, "no "+tarPath, "tar -C "+filepath.Join(dir, "hello")+" -cf "+tarPath+" .")
	}
	if err != nil {
		return checker.Errored(name, err)
	}
	root := storeOf(h)
	if _, err := fs.Stat(h.FS(), fsPath(filepath.Join(root, "index.json"))); err != nil {
		return checker.Failed(name, "the image store "+root+" is empty", importCmd)
	}
	s, err := image.Open(root)
	if err != nil {
		return checker.Errored(name, err)
	}
	img, err := s.Get(imageName)
	if errors.Is(err, image.ErrNotFound) {
		return checker.Failed(name, "no image "+imageName+" in the store (lab image ls)", importCmd)
	}
	if err != nil {
		return checker.Errored(name, err)
	}
	var found []string
	for _, l := range img.Layers {
		found = append(found, l.DiffID.String())
		if l.DiffID != sum {
			continue
		}
		blob := filepath.Join(root, "blobs", "sha256", l.DiffID.Encoded())
		stored, err := sha256File(h, blob)
		if err != nil || stored != sum {
			return checker.Failed(name, "the store's copy of layer "+sum.String()+" is damaged or missing", "lab image rm "+imageName+"; "+importCmd)
		}
		if _, err := fs.Stat(h.FS(), fsPath(l.Dir)); err != nil {
			return checker.Failed(name, "layer "+sum.String()+" is not unpacked in "+l.Dir, "lab image rm "+imageName+"; "+importCmd)
		}
		return checker.Passed(name, fmt.Sprintf("sha256sum %s = %s, the digest of layer %s of %s (unpacked in %s)", tarPath, sum.Encoded(), sum, imageName, l.Dir))
	}
	return checker.Mismatch(name, "a layer "+sum.String()+" (the sha256 of hello.tar)", fmt.Sprintf("layers %v", found),
		"hello.tar changed after the import? import it again: "+importCmd)
}

func sha256File(h checker.Host, path string) (digest.Digest, error) {
	f, err := h.FS().Open(fsPath(path))
	if err != nil {
		return "", err
	}
	defer f.Close()
	hash := sha256.New()
	if _, err := io.Copy(hash, f); err != nil {
		return "", err
	}
	return digest.NewDigest(digest.SHA256, hash), nil
}
