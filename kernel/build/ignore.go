package build

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
)

// ignorePattern is one line of .dockerignore.
type ignorePattern struct {
	Pattern string `json:"pattern"`
	Negate  bool   `json:"negate,omitempty"` // "!pattern": an exception
	re      *regexp.Regexp
}

// ignorer is the build context's .dockerignore: paths it matches are not
// part of the context, so COPY and ADD cannot see them (and editing them
// never invalidates the cache).
type ignorer struct {
	Patterns []ignorePattern `json:"patterns,omitempty"`
}

// readDockerignore reads CONTEXT/.dockerignore; no file means no pattern.
// As in docker: one pattern per line, '#' starts a comment line, "!"
// makes an exception, "*" and "?" do not cross '/', "**" matches any
// number of directories, and the last pattern that matches a path (or a
// directory above it) decides.
func readDockerignore(contextDir string) (*ignorer, error) {
	f, err := os.Open(filepath.Join(contextDir, ".dockerignore"))
	if errors.Is(err, fs.ErrNotExist) {
		return &ignorer{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read .dockerignore: %w", err)
	}
	defer f.Close()
	ig := &ignorer{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		p := ignorePattern{}
		if rest, ok := strings.CutPrefix(line, "!"); ok {
			p.Negate, line = true, strings.TrimSpace(rest)
		}
		p.Pattern = strings.TrimPrefix(path.Clean("/"+filepath.ToSlash(line)), "/")
		if err := p.compile(); err != nil {
			return nil, fmt.Errorf(".dockerignore: pattern %q: %w", line, err)
		}
		ig.Patterns = append(ig.Patterns, p)
	}
	return ig, sc.Err()
}

// compile turns the glob into a regular expression anchored on the whole
// path.
func (p *ignorePattern) compile() error {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(p.Pattern); i++ {
		switch c := p.Pattern[i]; {
		case strings.HasPrefix(p.Pattern[i:], "**/"):
			b.WriteString("(.*/)?")
			i += 2
		case strings.HasPrefix(p.Pattern[i:], "**"):
			b.WriteString(".*")
			i++
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		case c == '\\' && i+1 < len(p.Pattern):
			i++
			b.WriteString(regexp.QuoteMeta(p.Pattern[i : i+1]))
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	p.re = re
	return err
}

// ignored reports whether the context path rel ("src/a.go", slash
// separated, relative to the context) is left out of the context.
func (ig *ignorer) ignored(rel string) bool {
	if ig == nil || rel == "." || rel == "" {
		return false
	}
	out := false
	for i := range ig.Patterns {
		p := &ig.Patterns[i]
		if p.re == nil && p.compile() != nil {
			continue
		}
		if p.matchesOrParent(rel) {
			out = !p.Negate
		}
	}
	return out
}

// matchesOrParent reports whether the pattern matches rel or one of the
// directories above it: ignoring "build" ignores "build/out/x" too.
func (p *ignorePattern) matchesOrParent(rel string) bool {
	for cur := rel; cur != "." && cur != "/" && cur != ""; cur = path.Dir(cur) {
		if p.re.MatchString(cur) {
			return true
		}
	}
	return false
}
