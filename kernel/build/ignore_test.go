package build

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDockerignore(t *testing.T) {
	dir := t.TempDir()
	rules := "# build output\nbuild\n*.log\n**/secret*\n!build/keep.txt\n/docs/?.md\n"
	if err := os.WriteFile(filepath.Join(dir, ".dockerignore"), []byte(rules), 0o644); err != nil {
		t.Fatal(err)
	}
	ig, err := readDockerignore(dir)
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]bool{
		"build": true, "build/out/x.o": true, "build/keep.txt": false,
		"app.log": true, "src/app.log": false, // '*' does not cross '/'
		"secret.key": true, "a/b/secret.txt": true,
		"docs/a.md": true, "docs/ab.md": false, "src/main.go": false, ".": false,
	} {
		if got := ig.ignored(path); got != want {
			t.Errorf("ignored(%q) = %v, want %v", path, got, want)
		}
	}
	none, err := readDockerignore(t.TempDir())
	if err != nil || none.ignored("anything") {
		t.Errorf("no .dockerignore: %v, %v", none, err)
	}
}
