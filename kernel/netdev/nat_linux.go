package netdev

import (
	"errors"
	"fmt"
	"os"

	"github.com/coreos/go-iptables/iptables"
)

// iptablesPaths are where Debian and others install iptables. lab runs the
// one at a fixed path, not the first on $PATH, and it is the same program
// (through /etc/alternatives, nf_tables or legacy) the learner's
// `iptables` runs, so both see the same rules.
var iptablesPaths = []string{"/usr/sbin/iptables", "/sbin/iptables", "/usr/bin/iptables"}

func ipt() (*iptables.IPTables, error) {
	for _, p := range iptablesPaths {
		if _, err := os.Stat(p); err == nil {
			t, err := iptables.New(iptables.Path(p), iptables.Timeout(5))
			if err != nil {
				return nil, fmt.Errorf("iptables %s: %w", p, err)
			}
			return t, nil
		}
	}
	return nil, fmt.Errorf("iptables: not installed (apt-get install iptables): %w", os.ErrNotExist)
}

// AddRule appends r unless an identical rule is already there.
//
// Equivalent to: `iptables -t TABLE -C CHAIN ... || iptables -t TABLE -A CHAIN ...`.
func AddRule(r Rule) error {
	t, err := ipt()
	if err != nil {
		return err
	}
	if err := t.AppendUnique(r.Table, r.Chain, r.Spec...); err != nil {
		return fmt.Errorf("add rule %q: %w", r, err)
	}
	return nil
}

// DeleteRule deletes r; a missing rule is not an error.
//
// Equivalent to: `iptables -t TABLE -D CHAIN ...`.
func DeleteRule(r Rule) error {
	t, err := ipt()
	if err != nil {
		return err
	}
	if err := t.DeleteIfExists(r.Table, r.Chain, r.Spec...); err != nil {
		return fmt.Errorf("delete rule %q: %w", r, err)
	}
	return nil
}

// Rules lists the rules of a chain of a table.
//
// Equivalent to: `iptables -t TABLE -S CHAIN`.
func Rules(table, chain string) ([]Rule, error) {
	t, err := ipt()
	if err != nil {
		return nil, err
	}
	lines, err := t.List(table, chain)
	if err != nil {
		return nil, fmt.Errorf("list %s %s: %w", table, chain, err)
	}
	var out []Rule
	for _, l := range lines {
		if r, ok := ParseRule(table, l); ok {
			out = append(out, r)
		}
	}
	return out, nil
}

// Policy returns the default target of a built-in chain ("ACCEPT", "DROP").
//
// Equivalent to: `iptables -t TABLE -S CHAIN | head -1`.
func Policy(table, chain string) (string, error) {
	t, err := ipt()
	if err != nil {
		return "", err
	}
	lines, err := t.List(table, chain)
	if err != nil {
		return "", fmt.Errorf("list %s %s: %w", table, chain, err)
	}
	for _, l := range lines {
		w := splitQuoted(l)
		if len(w) == 3 && w[0] == "-P" {
			return w[2], nil
		}
	}
	return "", nil
}

// DeleteRulesWhere deletes every rule of table/chain for which match is
// true, and only those. Cleanups use it to remove rules by property (a lab
// subnet, a lab interface) after a crash.
func DeleteRulesWhere(table, chain string, match func(Rule) bool) error {
	rules, err := Rules(table, chain)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var errs []error
	for _, r := range rules {
		if match(r) {
			errs = append(errs, DeleteRule(r))
		}
	}
	return errors.Join(errs...)
}
