package netdev

import (
	"net/netip"
	"strconv"
	"strings"
)

// Rule is one iptables rule: a table, a chain and the match and target
// arguments, as `iptables -t TABLE -S CHAIN` prints them after "-A CHAIN".
type Rule struct {
	Table string   `json:"table"`
	Chain string   `json:"chain"`
	Spec  []string `json:"spec"`
}

// String renders the rule as the iptables command that adds it.
func (r Rule) String() string {
	return "iptables -t " + r.Table + " -A " + r.Chain + " " + strings.Join(r.Spec, " ")
}

// Masquerade is the rule that rewrites the source of packets from src
// leaving through any interface but notOut to the address of that outgoing
// interface, as Docker does for its bridge.
//
// Equivalent to: `iptables -t nat -A POSTROUTING -s SRC ! -o NOTOUT -j MASQUERADE`.
func Masquerade(src netip.Prefix, notOut string) Rule {
	return Rule{Table: "nat", Chain: "POSTROUTING", Spec: []string{
		"-s", src.String(), "!", "-o", notOut, "-j", "MASQUERADE",
	}}
}

// PublishPort is the rule that sends TCP connections arriving for host port
// hostPort from another namespace (through PREROUTING) to dest, like
// `docker run -p HOSTPORT:PORT`.
//
// Equivalent to: `iptables -t nat -A PREROUTING -p tcp --dport HOSTPORT -j DNAT --to-destination DEST`.
func PublishPort(hostPort uint16, dest netip.AddrPort) Rule {
	return Rule{Table: "nat", Chain: "PREROUTING", Spec: []string{
		"-p", "tcp", "-m", "tcp", "--dport", strconv.Itoa(int(hostPort)),
		"-j", "DNAT", "--to-destination", dest.String(),
	}}
}

// ParseRule reads one line of `iptables -t TABLE -S` ("-A CHAIN ARGS...").
// Policy ("-P") and chain ("-N") lines give ok false. Double-quoted words
// (comments with spaces) are kept whole, without the quotes.
func ParseRule(table, line string) (Rule, bool) {
	words := splitQuoted(line)
	if len(words) < 2 || words[0] != "-A" {
		return Rule{}, false
	}
	return Rule{Table: table, Chain: words[1], Spec: words[2:]}, true
}

func splitQuoted(s string) []string {
	var words []string
	var cur strings.Builder
	inQuote, have := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && inQuote && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
		case c == '"':
			inQuote, have = !inQuote, true
		case c == ' ' && !inQuote:
			if have {
				words = append(words, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteByte(c)
			have = true
		}
	}
	if have {
		words = append(words, cur.String())
	}
	return words
}

// Arg returns the word after flag in the rule ("--dport" gives "8080"),
// and whether the flag is there.
func (r Rule) Arg(flag string) (string, bool) {
	for i, w := range r.Spec {
		if w == flag && i+1 < len(r.Spec) {
			return r.Spec[i+1], true
		}
	}
	return "", false
}

// Negated reports whether flag is preceded by "!" (as in "! -o lab-br0").
func (r Rule) Negated(flag string) bool {
	for i, w := range r.Spec {
		if w == flag && i > 0 && r.Spec[i-1] == "!" {
			return true
		}
	}
	return false
}

// Target is the rule's -j argument ("MASQUERADE", "DNAT", "ACCEPT").
func (r Rule) Target() string {
	t, _ := r.Arg("-j")
	return t
}

// Mentions reports whether any word of the rule contains s.
func (r Rule) Mentions(s string) bool {
	for _, w := range r.Spec {
		if strings.Contains(w, s) {
			return true
		}
	}
	return false
}
