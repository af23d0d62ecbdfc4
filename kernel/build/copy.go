package build

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// copyJob is what the copy helper (a re-executed child in its own mount
// namespace) does: mount the step's overlay, then copy Sources from the
// source tree to Dest inside it.
type copyJob struct {
	Lower  []string `json:"lower"`
	Upper  string   `json:"upper"`
	Work   string   `json:"work"`
	Merged string   `json:"merged"`

	// The source tree: the build context (SourceDir), or the layers of an
	// earlier stage or image (SourceLower, mounted read-only at SourceDir).
	SourceDir   string   `json:"source_dir,omitempty"`
	SourceLower []string `json:"source_lower,omitempty"`

	Sources []string `json:"sources,omitempty"` // cleaned, relative to the source tree; may be globs
	Dest    string   `json:"dest,omitempty"`    // absolute inside the image
	DestDir bool     `json:"dest_dir,omitempty"`
	Chown   string   `json:"chown,omitempty"` // USER[:GROUP], names resolved in the image
	Chmod   uint32   `json:"chmod,omitempty"` // 0: keep the source's mode
	Unpack  bool     `json:"unpack,omitempty"`
	Mkdir   string   `json:"mkdir,omitempty"`  // WORKDIR: just create this directory
	Ignore  *ignorer `json:"ignore,omitempty"` // the context's .dockerignore
}

// copy runs COPY and ADD.
func (b *builder) copy(ctx context.Context, s *state, in Instruction) error {
	var words []string
	if in.JSON {
		for _, a := range in.Args {
			w, err := expandWord(a, s.vars)
			if err != nil {
				return err
			}
			words = append(words, w)
		}
	} else {
		var err error
		if words, err = splitWords(in.Args[0], s.vars); err != nil {
			return err
		}
	}
	if len(words) < 2 {
		return fmt.Errorf("%s needs at least one source and a destination: %s SRC... DEST", in.Cmd, in.Cmd)
	}
	job := copyJob{Unpack: in.Cmd == "ADD", Chown: in.Flags["chown"]}
	srcs, dest := words[:len(words)-1], words[len(words)-1]
	job.DestDir = strings.HasSuffix(dest, "/") || len(srcs) > 1
	if !path.IsAbs(dest) {
		dest = path.Join(orRoot(s.cfg.Config.WorkingDir), dest)
	}
	job.Dest = path.Clean(dest)
	if m, ok := in.Flags["chmod"]; ok {
		mode, err := strconv.ParseUint(m, 8, 32)
		if err != nil || mode > 0o7777 {
			return fmt.Errorf("%s --chmod=%s: want an octal mode like 755", in.Cmd, m)
		}
		job.Chmod = uint32(mode) | 1<<31 // the high bit says "set"
	}
	for _, src := range srcs {
		if strings.Contains(src, "://") {
			return fmt.Errorf("%s %s: URLs are not supported: download the file into the build context", in.Cmd, src)
		}
		// As in docker, a leading "/" in a source means the root of the
		// context; ".." may not climb out of it.
		clean := path.Clean("/" + src)[1:]
		if clean == "" {
			clean = "."
		}
		if c := path.Clean(src); c == ".." || strings.HasPrefix(c, "../") || (clean != "." && !filepath.IsLocal(clean)) {
			return fmt.Errorf("%s %s: the path is outside the build context", in.Cmd, src)
		}
		job.Sources = append(job.Sources, clean)
	}
	var inputs string
	if from, ok := in.Flags["from"]; ok {
		lower, key, err := b.copySource(from)
		if err != nil {
			return fmt.Errorf("%s --from=%s: %w", in.Cmd, from, err)
		}
		job.SourceLower, inputs = lower, key
	} else {
		job.SourceDir, job.Ignore = b.opts.ContextDir, b.ignore
		sum, n, err := hashSources(b.opts.ContextDir, job.Sources, b.ignore)
		if err != nil {
			return fmt.Errorf("%s: %w", in.Cmd, err)
		}
		job.DestDir = job.DestDir || n > 1
		inputs = sum
	}
	inputs += "\x00" + job.Dest + "\x00" + job.Chown + "\x00" + strconv.FormatUint(uint64(job.Chmod), 8)
	return b.fsStep(ctx, s, in, inputs, func(st *stepDirs) error {
		if err := b.ws.copy(ctx, s, st, job); err != nil {
			return fmt.Errorf("%s: %w", in.Cmd, err)
		}
		return nil
	})
}

// copySource resolves COPY --from: an earlier stage by name or number, or
// else an image of the store. It returns the lower dirs of its file
// system and the key that identifies their content.
func (b *builder) copySource(from string) ([]string, string, error) {
	if i := stageIndex(b.df, from); i >= 0 {
		if i >= len(b.stages) {
			return nil, "", fmt.Errorf("stage %q is not built yet: COPY --from can only use an earlier stage", from)
		}
		st := b.stages[i]
		return st.lowerDirs(), st.key.String(), nil
	}
	img, err := b.opts.Store.Get(from)
	if err != nil {
		return nil, "", fmt.Errorf("no stage named %q in the Dockerfile and no such image (stages: %s)", from, b.stageNames())
	}
	return img.LowerDirs(), img.ID.String(), nil
}

func (b *builder) stageNames() string {
	var names []string
	for i, st := range b.df.Stages {
		n := strconv.Itoa(i)
		if st.Name != "" {
			n += " " + st.Name
		}
		names = append(names, n)
	}
	return strings.Join(names, ", ")
}

// hashSources checks that every source exists inside the context (an
// os.Root refuses symlinks that lead out) and returns the content hash of
// all of them: names, types, modes, link targets and file contents, not
// times, so touching a file does not invalidate the cache but editing it
// does. Paths .dockerignore excludes are not part of the context. It also
// returns how many files the sources (and globs) named.
func hashSources(contextDir string, sources []string, ig *ignorer) (string, int, error) {
	root, err := os.OpenRoot(contextDir)
	if err != nil {
		return "", 0, fmt.Errorf("open build context: %w", err)
	}
	defer root.Close()
	fsys := root.FS()
	h := sha256.New()
	count := 0
	for _, src := range sources {
		matches, err := expandSource(fsys, src, ig)
		if err != nil {
			return "", 0, err
		}
		for _, m := range matches {
			count++
			if _, err := root.Stat(m); err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return "", 0, fmt.Errorf("%s: no such file or directory in the build context %s", m, contextDir)
				}
				return "", 0, fmt.Errorf("%s: %w (sources must stay inside the build context)", m, err)
			}
			if err := hashTree(root, m, h, ig); err != nil {
				return "", 0, err
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil)), count, nil
}

// expandSource expands a COPY source (a path or a glob) into the context
// paths it names, leaving out what .dockerignore excludes.
func expandSource(fsys fs.FS, src string, ig *ignorer) ([]string, error) {
	if !strings.ContainsAny(src, "*?[") {
		if ig.ignored(src) {
			return nil, fmt.Errorf("%s is excluded from the build context by .dockerignore", src)
		}
		return []string{src}, nil
	}
	all, err := fs.Glob(fsys, src)
	if err != nil {
		return nil, fmt.Errorf("bad pattern %q: %w", src, err)
	}
	matches := slices.DeleteFunc(all, ig.ignored)
	if len(matches) == 0 {
		return nil, fmt.Errorf("no file in the build context matches %s", src)
	}
	return matches, nil
}

func hashTree(root *os.Root, top string, h io.Writer, ig *ignorer) error {
	fi, err := root.Stat(top) // the top-level source is followed, like docker
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return hashFile(root, top, fi, h)
	}
	return fs.WalkDir(root.FS(), top, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ig.ignored(p) {
			return nil // an ignored directory is still walked: "!dir/keep" may bring a file back
		}
		fi, err := root.Lstat(p)
		if err != nil {
			return err
		}
		return hashFile(root, p, fi, h)
	})
}

func hashFile(root *os.Root, p string, fi fs.FileInfo, h io.Writer) error {
	fmt.Fprintf(h, "%s\x00%o\x00", p, fi.Mode())
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		target, err := root.Readlink(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00", target)
	case fi.Mode().IsRegular():
		f, err := root.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		if _, err := io.Copy(h, f); err != nil {
			return fmt.Errorf("read %s: %w", p, err)
		}
	}
	return nil
}
