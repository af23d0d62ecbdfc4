package build

import (
	"fmt"
	"strings"
)

// lookup returns the value of a build variable (ENV or ARG) and whether it
// is set.
type lookup func(name string) (string, bool)

// splitWords splits an instruction's arguments into words like docker's
// shell lexer does for ENV, LABEL, COPY, EXPOSE...: unquoted blanks
// separate words, "double quotes" and 'single quotes' group, a backslash
// escapes the next character, and $VAR, ${VAR}, ${VAR:-default} and
// ${VAR:+alternative} are replaced (not inside single quotes). RUN, CMD
// and ENTRYPOINT are not expanded here: the shell in the container does it.
func splitWords(s string, vars lookup) ([]string, error) {
	return lex(s, vars, true)
}

// expandWord is splitWords without the splitting: WORKDIR and USER take
// their whole argument as one word.
func expandWord(s string, vars lookup) (string, error) {
	w, err := lex(s, vars, false)
	if err != nil || len(w) == 0 {
		return "", err
	}
	return w[0], nil
}

func lex(s string, vars lookup, split bool) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	r := []rune(s)
	for i := 0; i < len(r); i++ {
		c := r[i]
		switch {
		case split && (c == ' ' || c == '\t'):
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
			continue
		case c == '\\' && i+1 < len(r):
			i++
			cur.WriteRune(r[i])
		case c == '\'':
			end := indexRune(r, i+1, '\'')
			if end < 0 {
				return nil, fmt.Errorf("unmatched ' in %q", s)
			}
			cur.WriteString(string(r[i+1 : end]))
			i = end
		case c == '"':
			j := i + 1
			for ; j < len(r) && r[j] != '"'; j++ {
				switch {
				case r[j] == '\\' && j+1 < len(r) && strings.ContainsRune(`"\$`, r[j+1]):
					j++
					cur.WriteRune(r[j])
				case r[j] == '$':
					n, v, err := variable(r, j, vars)
					if err != nil {
						return nil, err
					}
					cur.WriteString(v)
					j += n - 1
				default:
					cur.WriteRune(r[j])
				}
			}
			if j >= len(r) {
				return nil, fmt.Errorf("unmatched \" in %q", s)
			}
			i = j
		case c == '$':
			n, v, err := variable(r, i, vars)
			if err != nil {
				return nil, err
			}
			cur.WriteString(v)
			i += n - 1
		default:
			cur.WriteRune(c)
		}
		inWord = true
	}
	if inWord || (!split && len(words) == 0) {
		words = append(words, cur.String())
	}
	return words, nil
}

func indexRune(r []rune, from int, c rune) int {
	for i := from; i < len(r); i++ {
		if r[i] == c {
			return i
		}
	}
	return -1
}

// variable reads the reference starting at r[i] == '$' and returns how
// many runes it spans and its value. A '$' not followed by a name stays.
func variable(r []rune, i int, vars lookup) (int, string, error) {
	if i+1 >= len(r) {
		return 1, "$", nil
	}
	if r[i+1] != '{' {
		j := i + 1
		for j < len(r) && isNameRune(r[j], j == i+1) {
			j++
		}
		if j == i+1 {
			return 1, "$", nil
		}
		v, _ := vars(string(r[i+1 : j]))
		return j - i, v, nil
	}
	end := indexRune(r, i+2, '}')
	if end < 0 {
		return 0, "", fmt.Errorf("missing '}' in %q", string(r[i:]))
	}
	body := string(r[i+2 : end])
	name, word, op := body, "", ""
	if k := strings.Index(body, ":"); k >= 0 {
		name, op, word = body[:k], body[k:min(k+2, len(body))], body[min(k+2, len(body)):]
		if op != ":-" && op != ":+" {
			return 0, "", fmt.Errorf("unsupported substitution ${%s}: use ${VAR}, ${VAR:-default} or ${VAR:+alternative}", body)
		}
	}
	if name == "" || !validName(name) {
		return 0, "", fmt.Errorf("bad variable name in ${%s}", body)
	}
	v, set := vars(name)
	switch op {
	case ":-":
		if !set || v == "" {
			v = word
		}
	case ":+":
		if set && v != "" {
			v = word
		} else {
			v = ""
		}
	}
	return end - i + 1, v, nil
}

func isNameRune(c rune, first bool) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || (!first && c >= '0' && c <= '9')
}

func validName(s string) bool {
	for i, c := range s {
		if !isNameRune(c, i == 0) {
			return false
		}
	}
	return s != ""
}

// keyValues reads the arguments of ENV, LABEL and ARG: KEY=VALUE pairs,
// or (ENV and LABEL's old form) "KEY the rest of the line".
func keyValues(cmd, args string, vars lookup) ([][2]string, error) {
	words, err := splitWords(args, vars)
	if err != nil {
		return nil, err
	}
	if len(words) == 0 {
		return nil, fmt.Errorf("%s needs KEY=VALUE", cmd)
	}
	if !strings.Contains(words[0], "=") {
		if cmd == "ARG" {
			return [][2]string{{words[0], ""}}, nil // ARG NAME: declared, no default
		}
		if len(words) < 2 {
			return nil, fmt.Errorf("%s %s: missing value (use %s KEY=VALUE)", cmd, words[0], cmd)
		}
		return [][2]string{{words[0], strings.Join(words[1:], " ")}}, nil
	}
	var out [][2]string
	for _, w := range words {
		k, v, ok := strings.Cut(w, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%s: %q is not KEY=VALUE", cmd, w)
		}
		out = append(out, [2]string{k, v})
	}
	return out, nil
}
