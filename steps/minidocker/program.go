package minidockerlab

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/lab-edu/lab/steps"
)

// sources holds the student's skeleton and the reference solution of each
// TODO, as name.go.txt files (see the package documentation for why .txt).
//
//go:embed skeleton/*.txt reference/*.txt
var sources embed.FS

// Skeleton returns the files of the skeleton, by name in the student's
// module ("main.go", "go.mod", ...).
func Skeleton() map[string][]byte { return readSources("skeleton") }

// Reference returns the reference solution of each topic file, by name
// ("hostname.go"): the skeleton's file with its TODO done.
func Reference() map[string][]byte { return readSources("reference") }

func readSources(dir string) map[string][]byte {
	out := map[string][]byte{}
	entries, _ := fs.ReadDir(sources, dir)
	for _, e := range entries {
		b, err := fs.ReadFile(sources, path.Join(dir, e.Name()))
		if err == nil {
			out[strings.TrimSuffix(e.Name(), ".txt")] = b
		}
	}
	return out
}

// writeSkeleton writes every file of the skeleton that is not in dir yet
// and returns their names. A file that exists is the student's: left alone.
func writeSkeleton(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var wrote []string
	for _, name := range sortedNames(Skeleton()) {
		p := filepath.Join(dir, name)
		if _, err := os.Lstat(p); err == nil {
			continue
		}
		if err := os.WriteFile(p, Skeleton()[name], 0o644); err != nil {
			return wrote, err
		}
		wrote = append(wrote, name)
	}
	return wrote, nil
}

func sortedNames(m map[string][]byte) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// fileState is what a topic file in the workspace holds.
type fileState int

const (
	missing   fileState = iota
	untouched           // still the skeleton's version
	solved              // the reference's version
	edited              // the student's own version
)

func stateOf(dir, file string) fileState {
	b, err := os.ReadFile(filepath.Join(dir, file))
	switch {
	case err != nil:
		return missing
	case bytes.Equal(b, Skeleton()[file]):
		return untouched
	case bytes.Equal(b, Reference()[file]):
		return solved
	}
	return edited
}

// solveFile writes the reference version of a topic file. The student's
// own version, if any, is kept beside it as FILE.orig (not compiled: it
// does not end in .go).
func solveFile(env *steps.Env, file string) error {
	dir := programDirOf(env.Dir)
	p := filepath.Join(dir, file)
	if stateOf(dir, file) == edited {
		if err := os.Rename(p, p+".orig"); err != nil {
			return fmt.Errorf("keep your %s: %w", file, err)
		}
		fmt.Fprintf(env.Log, "your %s is kept as %s.orig\n", file, file)
	}
	ref, ok := Reference()[file]
	if !ok {
		return fmt.Errorf("minidocker: no reference for %s", file)
	}
	fmt.Fprintf(env.Log, "writing the reference %s\n", p)
	return os.WriteFile(p, ref, 0o644)
}

// build runs `go build -o mini .` in the student's module. Only Setup and
// Solve build; checks run whatever binary is there.
func build(ctx context.Context, env *steps.Env) error {
	goBin, err := findGo()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", programName, ".")
	cmd.Dir = programDirOf(env.Dir)
	// The student's module needs nothing but the standard library: never
	// download a toolchain or a module (the classroom may be offline).
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local", "GOPROXY=off", "CGO_ENABLED=0")
	if os.Getenv("HOME") == "" && os.Getenv("GOCACHE") == "" {
		cmd.Env = append(cmd.Env, "HOME=/root") // go needs a cache directory
	}
	fmt.Fprintf(env.Log, "cd %s && go build -o %s .\n", cmd.Dir, programName)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go build in %s: %w\n%s", cmd.Dir, err, bytes.TrimSpace(out))
	}
	return nil
}

// findGo finds the go command: on $PATH, or where vagrant/provision.sh
// installs it (sudo's secure_path may not include /usr/local/go/bin).
func findGo() (string, error) {
	if p, err := exec.LookPath("go"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/local/go/bin/go", "/usr/lib/go/bin/go"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("minidocker: no go command: the lab builds your program with Go (vagrant/provision.sh installs it in /usr/local/go)")
}

// newerSources lists the .go files of the student's module modified after
// the binary was built: a check runs the binary, so an edit not rebuilt
// does not count yet.
func newerSources(work string) []string {
	bin, err := os.Stat(binaryOf(work))
	if err != nil {
		return nil
	}
	matches, _ := filepath.Glob(filepath.Join(programDirOf(work), "*.go"))
	var newer []string
	for _, m := range matches {
		if st, err := os.Stat(m); err == nil && st.ModTime().After(bin.ModTime()) {
			newer = append(newer, filepath.Base(m))
		}
	}
	return newer
}
