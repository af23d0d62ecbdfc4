package netdev

import (
	"strings"
)

// RestoreScript renders rules to delete and rules to append in the input
// format of `iptables-restore --noflush`: per table, "*TABLE", then
// "-D CHAIN ..." and "-A CHAIN ..." lines, then "COMMIT". Deletions come
// first. Words with spaces or quotes are double-quoted.
func RestoreScript(add, del []Rule) string {
	var tables []string
	lines := map[string][]string{}
	put := func(op string, r Rule) {
		if _, ok := lines[r.Table]; !ok {
			tables = append(tables, r.Table)
		}
		words := []string{op, r.Chain}
		for _, w := range r.Spec {
			words = append(words, quoteWord(w))
		}
		lines[r.Table] = append(lines[r.Table], strings.Join(words, " "))
	}
	for _, r := range del {
		put("-D", r)
	}
	for _, r := range add {
		put("-A", r)
	}
	var b strings.Builder
	for _, t := range tables {
		b.WriteString("*" + t + "\n")
		for _, l := range lines[t] {
			b.WriteString(l + "\n")
		}
		b.WriteString("COMMIT\n")
	}
	return b.String()
}

func quoteWord(w string) string {
	if w != "" && !strings.ContainsAny(w, " \t\"'\\") {
		return w
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(w) + `"`
}
