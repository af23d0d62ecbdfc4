package build

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
)

func TestParseMultistageFile(t *testing.T) {
	f, err := os.Open("testdata/multistage.Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	df, err := Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(df.Args) != 1 || df.Args[0].Args[0] != "VERSION=1.0" {
		t.Errorf("global args = %+v", df.Args)
	}
	if len(df.Stages) != 2 || df.Stages[0].Name != "build" || df.Stages[1].Base != "scratch" {
		t.Fatalf("stages = %+v", df.Stages)
	}
	run := df.Stages[0].Instructions[0]
	if run.Cmd != "RUN" || run.Line != 6 || run.JSON {
		t.Errorf("RUN = %+v", run)
	}
	if want := "set -e;     echo one > /one;     echo two > /two"; run.Args[0] != want {
		t.Errorf("continued RUN = %q, want %q", run.Args[0], want)
	}
	cp := df.Stages[0].Instructions[1]
	if !cp.JSON || !slices.Equal(cp.Args, []string{"a file.txt", "/dst/"}) || cp.Flags["chown"] != "1000:1000" {
		t.Errorf("COPY = %+v", cp)
	}
	if from := df.Stages[1].Instructions[0].Flags["from"]; from != "build" {
		t.Errorf("COPY --from = %q", from)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"unknown instruction", "FROM a\nRUNN x", `line 2: unknown instruction "RUNN"`},
		{"no from", "# nothing\n", "no FROM"},
		{"instruction before from", "RUN x\nFROM a", "RUN before the first FROM"},
		{"missing args", "FROM a\nCOPY", "COPY needs arguments"},
		{"bad flag", "FROM a\nRUN --mount=type=cache x", "RUN does not support the flag --mount=type=cache"},
		{"duplicate stage", "FROM a AS x\nFROM b AS x", `stage name "x" is already used on line 1`},
		{"bad stage name", "FROM a AS 1x", "invalid stage name"},
		{"bad from", "FROM a b c d", "FROM wants IMAGE [AS NAME]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tt.in))
			var pe *ParseError
			if err == nil || !errors.As(err, &pe) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse(%q) = %v, want a ParseError containing %q", tt.in, err, tt.want)
			}
		})
	}
}

func TestParseShellFormThatLooksLikeJSON(t *testing.T) {
	df, err := Parse(strings.NewReader("FROM a\nCMD [not json]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if in := df.Stages[0].Instructions[0]; in.JSON || in.Args[0] != "[not json]" {
		t.Errorf("CMD = %+v, want the shell form", in)
	}
}

func TestSplitWords(t *testing.T) {
	vars := func(n string) (string, bool) {
		v, ok := map[string]string{"HOME": "/root", "EMPTY": "", "SP": "a b"}[n]
		return v, ok
	}
	tests := []struct {
		in   string
		want []string
	}{
		{`a b  c`, []string{"a", "b", "c"}},
		{`K="a b" L='$HOME' M=$HOME`, []string{"K=a b", "L=$HOME", "M=/root"}},
		{`${HOME}/x ${NOPE:-def} ${HOME:+set} ${EMPTY:-e}`, []string{"/root/x", "def", "set", "e"}},
		{`a\ b \$HOME "\$HOME"`, []string{"a b", "$HOME", "$HOME"}},
		{`$SP`, []string{"a b"}},
		{`cost$ 5`, []string{"cost$", "5"}},
	}
	for _, tt := range tests {
		got, err := splitWords(tt.in, vars)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("splitWords(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{`"open`, `'open`, `${HOME`, `${HOME/x/y}`} {
		if _, err := splitWords(bad, vars); err == nil {
			t.Errorf("splitWords(%q) succeeded, want an error", bad)
		}
	}
}

func TestKeyValues(t *testing.T) {
	none := func(string) (string, bool) { return "", false }
	tests := []struct {
		cmd, in string
		want    [][2]string
	}{
		{"ENV", `A=1 B="two words"`, [][2]string{{"A", "1"}, {"B", "two words"}}},
		{"ENV", `A the rest of it`, [][2]string{{"A", "the rest of it"}}},
		{"ARG", `NAME`, [][2]string{{"NAME", ""}}},
		{"LABEL", `"com.example.x"="y z"`, [][2]string{{"com.example.x", "y z"}}},
	}
	for _, tt := range tests {
		got, err := keyValues(tt.cmd, tt.in, none)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("keyValues(%s, %q) = %q, %v, want %q", tt.cmd, tt.in, got, err, tt.want)
		}
	}
	if _, err := keyValues("ENV", "ALONE", none); err == nil {
		t.Error("ENV ALONE accepted, want an error")
	}
}

func TestExposedPort(t *testing.T) {
	for in, want := range map[string]string{"80": "80/tcp", "53/udp": "53/udp", "8080/tcp": "8080/tcp"} {
		if got, err := exposedPort(in); err != nil || got != want {
			t.Errorf("exposedPort(%q) = %q, %v, want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"0", "70000", "80/icmp", "http"} {
		if _, err := exposedPort(bad); err == nil {
			t.Errorf("exposedPort(%q) accepted", bad)
		}
	}
}

func TestStepKeyChains(t *testing.T) {
	run := Instruction{Cmd: "RUN", Args: []string{"make"}}
	pa, pb := digest.FromString("a"), digest.FromString("b")
	a := stepKey(pa, run, "x")
	if a != stepKey(pa, run, "x") {
		t.Error("stepKey is not deterministic")
	}
	if a == stepKey(pb, run, "x") {
		t.Error("stepKey ignores the parent")
	}
	if a == stepKey(pa, run, "y") {
		t.Error("stepKey ignores the inputs")
	}
	cp := Instruction{Cmd: "COPY", Args: []string{"a b"}, Flags: map[string]string{"from": "x"}}
	cp2 := Instruction{Cmd: "COPY", Args: []string{"a b"}, Flags: map[string]string{"from": "y"}}
	if stepKey(a, cp, "") == stepKey(a, cp2, "") {
		t.Error("stepKey ignores flags")
	}
}
