package build

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Instruction is one Dockerfile instruction, continuation lines joined.
type Instruction struct {
	Line     int               // line number where it starts (1-based)
	Cmd      string            // the keyword in upper case: "RUN", "COPY"
	Flags    map[string]string // leading --name=value flags: COPY --from=build
	Args     []string          // exec form: the JSON array; shell form: the rest of the line as one string
	JSON     bool              // written in exec form: ["/bin/echo", "hi"]
	Original string            // the whole instruction as written, for history and errors
}

// Stage is one FROM and the instructions below it.
type Stage struct {
	Index        int
	Name         string // the name after AS, lower case; "" when unnamed
	Base         string // the image after FROM, before variable expansion ("scratch" for none)
	Line         int
	Instructions []Instruction
}

// Dockerfile is a parsed Dockerfile: the ARGs written before the first FROM
// (they may be used in FROM lines) and the stages.
type Dockerfile struct {
	Args   []Instruction
	Stages []Stage
}

// ParseError is a syntax error with the line it was found on.
type ParseError struct {
	Line int
	Msg  string
}

func (e *ParseError) Error() string { return fmt.Sprintf("dockerfile line %d: %s", e.Line, e.Msg) }

// known lists the instructions this builder implements and the flags each
// accepts. Anything else is refused by name rather than silently skipped:
// an ignored HEALTHCHECK or VOLUME would build an image that does not do
// what its Dockerfile says.
var known = map[string][]string{
	"FROM": {"platform"}, "RUN": nil, "COPY": {"from", "chown", "chmod"}, "ADD": {"chown", "chmod"},
	"ENV": nil, "WORKDIR": nil, "CMD": nil, "ENTRYPOINT": nil, "EXPOSE": nil, "USER": nil,
	"LABEL": nil, "ARG": nil, "MAINTAINER": nil, "STOPSIGNAL": nil,
}

// Parse reads a Dockerfile. It knows the file's syntax (comments, line
// continuations with a trailing backslash, exec form as a JSON array,
// leading --flags) and refuses unknown instructions; what each
// instruction's arguments mean is checked when the build runs them.
func Parse(r io.Reader) (*Dockerfile, error) {
	lines, err := logicalLines(r)
	if err != nil {
		return nil, err
	}
	df := &Dockerfile{}
	for _, l := range lines {
		in, err := parseInstruction(l.n, l.text)
		if err != nil {
			return nil, err
		}
		switch {
		case in.Cmd == "FROM":
			st, err := parseFrom(in, len(df.Stages))
			if err != nil {
				return nil, err
			}
			df.Stages = append(df.Stages, st)
		case len(df.Stages) == 0 && in.Cmd == "ARG":
			df.Args = append(df.Args, in)
		case len(df.Stages) == 0:
			return nil, &ParseError{in.Line, fmt.Sprintf("%s before the first FROM: a Dockerfile starts with FROM (or ARG)", in.Cmd)}
		default:
			st := &df.Stages[len(df.Stages)-1]
			st.Instructions = append(st.Instructions, in)
		}
	}
	if len(df.Stages) == 0 {
		return nil, &ParseError{1, "no FROM instruction: the file is empty or only has comments"}
	}
	seen := map[string]int{}
	for _, st := range df.Stages {
		if st.Name == "" {
			continue
		}
		if first, dup := seen[st.Name]; dup {
			return nil, &ParseError{st.Line, fmt.Sprintf("stage name %q is already used on line %d", st.Name, first)}
		}
		seen[st.Name] = st.Line
	}
	return df, nil
}

type logicalLine struct {
	n    int
	text string
}

// logicalLines joins continuation lines and drops comments and blank lines.
// As in docker, a comment line inside a continued instruction is skipped,
// and a '#' anywhere but at the start of a line is an ordinary character.
func logicalLines(r io.Reader) ([]logicalLine, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	var out []logicalLine
	var cur strings.Builder
	start, n := 0, 0
	for sc.Scan() {
		n++
		line := strings.TrimRight(sc.Text(), " \t\r")
		trimmed := strings.TrimLeft(line, " \t")
		if strings.HasPrefix(trimmed, "#") || (trimmed == "" && cur.Len() == 0) {
			continue
		}
		if cur.Len() == 0 {
			start = n
		}
		if strings.HasSuffix(line, `\`) {
			cur.WriteString(strings.TrimSuffix(line, `\`))
			continue
		}
		cur.WriteString(line)
		out = append(out, logicalLine{start, strings.TrimSpace(cur.String())})
		cur.Reset()
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read dockerfile: %w", err)
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, logicalLine{start, s}) // a trailing backslash on the last line
	}
	return out, nil
}

func parseInstruction(line int, text string) (Instruction, error) {
	word, rest, _ := strings.Cut(text, " ")
	if i := strings.IndexAny(word, "\t"); i >= 0 {
		word, rest = word[:i], word[i+1:]+" "+rest
	}
	in := Instruction{Line: line, Cmd: strings.ToUpper(word), Original: text, Flags: map[string]string{}}
	allowed, ok := known[in.Cmd]
	if !ok {
		return in, &ParseError{line, fmt.Sprintf("unknown instruction %q (this builder knows FROM, RUN, COPY, ADD, ENV, WORKDIR, CMD, ENTRYPOINT, EXPOSE, USER, LABEL, ARG)", word)}
	}
	rest = strings.TrimSpace(rest)
	// Leading flags: --name=value, before the arguments.
	for strings.HasPrefix(rest, "--") {
		flag, after, _ := strings.Cut(rest, " ")
		name, value, hasValue := strings.Cut(strings.TrimPrefix(flag, "--"), "=")
		if !hasValue || !contains(allowed, name) {
			return in, &ParseError{line, fmt.Sprintf("%s does not support the flag %s", in.Cmd, flag)}
		}
		in.Flags[name] = value
		rest = strings.TrimSpace(after)
	}
	if rest == "" {
		return in, &ParseError{line, fmt.Sprintf("%s needs arguments", in.Cmd)}
	}
	if args, ok := parseJSONArray(rest); ok {
		in.Args, in.JSON = args, true
		return in, nil
	}
	in.Args = []string{rest}
	return in, nil
}

// parseJSONArray reads the exec form: a JSON array of strings. Anything
// else (docker's rule) is the shell form, even if it starts with '['.
func parseJSONArray(s string) ([]string, bool) {
	if !strings.HasPrefix(s, "[") {
		return nil, false
	}
	var args []string
	if err := json.Unmarshal([]byte(s), &args); err != nil {
		return nil, false
	}
	return args, true
}

// parseFrom reads "FROM image [AS name]".
func parseFrom(in Instruction, index int) (Stage, error) {
	if in.JSON {
		return Stage{}, &ParseError{in.Line, "FROM takes an image name, not a JSON array"}
	}
	f := strings.Fields(in.Args[0])
	st := Stage{Index: index, Line: in.Line, Base: f[0]}
	switch {
	case len(f) == 1:
	case len(f) == 3 && strings.EqualFold(f[1], "AS"):
		st.Name = strings.ToLower(f[2])
		if _, err := strconv.Atoi(st.Name); err == nil || !validStageName(st.Name) {
			return Stage{}, &ParseError{in.Line, fmt.Sprintf("invalid stage name %q: use letters, digits, '-', '_' and '.', starting with a letter", f[2])}
		}
	default:
		return Stage{}, &ParseError{in.Line, fmt.Sprintf("FROM wants IMAGE [AS NAME], got %q", in.Args[0])}
	}
	return st, nil
}

func validStageName(s string) bool {
	for i, c := range s {
		letter := c >= 'a' && c <= 'z'
		if i == 0 && !letter {
			return false
		}
		if !letter && !(c >= '0' && c <= '9') && c != '-' && c != '_' && c != '.' {
			return false
		}
	}
	return s != ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
