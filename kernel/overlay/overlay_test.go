package overlay_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lab-edu/lab/kernel/overlay"
)

func TestOptions(t *testing.T) {
	tests := []struct {
		name    string
		layers  overlay.Layers
		want    string
		wantErr string
	}{
		{"two lowers", overlay.Layers{Lower: []string{"/l2", "/l1"}, Upper: "/u", Work: "/w"}, "lowerdir=/l2:/l1,upperdir=/u,workdir=/w", ""},
		{"one lower", overlay.Layers{Lower: []string{"/l"}, Upper: "/u", Work: "/w"}, "lowerdir=/l,upperdir=/u,workdir=/w", ""},
		{"read-only", overlay.Layers{Lower: []string{"/a", "/b"}}, "lowerdir=/a:/b", ""},
		{"read-only one lower", overlay.Layers{Lower: []string{"/a"}}, "", "at least two lower"},
		{"no lower", overlay.Layers{Upper: "/u", Work: "/w"}, "", "at least one lower"},
		{"upper without work", overlay.Layers{Lower: []string{"/l"}, Upper: "/u"}, "", "give both or neither"},
		{"colon in path", overlay.Layers{Lower: []string{"/a:b"}, Upper: "/u", Work: "/w"}, "", "must not contain"},
		{"comma in path", overlay.Layers{Lower: []string{"/l"}, Upper: "/u,x", Work: "/w"}, "", "must not contain"},
		{"upper is a lower", overlay.Layers{Lower: []string{"/l"}, Upper: "/l", Work: "/w"}, "", "both a lower dir"},
		{"lower twice", overlay.Layers{Lower: []string{"/l", "/l"}, Upper: "/u", Work: "/w"}, "", "listed twice"},
		{"upper is work", overlay.Layers{Lower: []string{"/l"}, Upper: "/u", Work: "/u"}, "", "must differ"},
		{"empty lower", overlay.Layers{Lower: []string{"/l", ""}, Upper: "/u", Work: "/w"}, "", "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.layers.Options()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Options() = %q, %v, want error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Options() = %q, %v, want %q", got, err, tt.want)
			}
		})
	}
}

func TestParseOptions(t *testing.T) {
	tests := []struct {
		name, in string
		want     overlay.Layers
	}{
		{"legacy", "rw,lowerdir=/l2:/l1,upperdir=/u,workdir=/w,uuid=on",
			overlay.Layers{Lower: []string{"/l2", "/l1"}, Upper: "/u", Work: "/w"}},
		{"fsconfig lowerdir+", "rw,lowerdir+=/l2,lowerdir+=/l1,datadir+=/d,upperdir=/u,workdir=/w",
			overlay.Layers{Lower: []string{"/l2", "/l1"}, Upper: "/u", Work: "/w"}},
		{"escaped comma and colon", `rw,lowerdir=/a\054b:/c\134:d,upperdir=/u\040x,workdir=/w`,
			overlay.Layers{Lower: []string{"/a,b", "/c:d"}, Upper: "/u x", Work: "/w"}},
		{"data-only layers", "ro,lowerdir=/l2:/l1::/data", overlay.Layers{Lower: []string{"/l2", "/l1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := overlay.ParseOptions(tt.in)
			if !slices.Equal(got.Lower, tt.want.Lower) || got.Upper != tt.want.Upper || got.Work != tt.want.Work {
				t.Fatalf("ParseOptions(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

// TestParseOptionsRoundTrip: what Options builds, ParseOptions reads back.
func TestParseOptionsRoundTrip(t *testing.T) {
	l := overlay.Layers{Lower: []string{"/var/lib/lab/layers/b", "/var/lib/lab/layers/a"}, Upper: "/c/upper", Work: "/c/work"}
	data, err := l.Options()
	if err != nil {
		t.Fatal(err)
	}
	got := overlay.ParseOptions("rw," + data)
	if !slices.Equal(got.Lower, l.Lower) || got.Upper != l.Upper || got.Work != l.Work {
		t.Fatalf("ParseOptions(Options()) = %+v, want %+v", got, l)
	}
}

func mkfile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestMountAndDiff mounts a real overlay, changes it through the merged
// view, and checks what Diff reads back from the upper dir.
