package cli

import (
	"testing"
	"time"
)

func TestStressArgs(t *testing.T) {
	tests := []struct {
		args []string
		want stressOptions
	}{
		{[]string{"stress", "mem", "100M"}, stressOptions{Kind: "mem", Size: 100 << 20}},
		{[]string{"stress", "mem", "512k", "--hold", "2"}, stressOptions{Kind: "mem", Size: 512 << 10, Hold: 2 * time.Second}},
		{[]string{"stress", "mem", "1G"}, stressOptions{Kind: "mem", Size: 1 << 30}},
		{[]string{"stress", "mem", "4096"}, stressOptions{Kind: "mem", Size: 4096}},
		{[]string{"stress", "cpu"}, stressOptions{Kind: "cpu", Seconds: 5 * time.Second}},
		{[]string{"stress", "cpu", "--seconds", "0.5"}, stressOptions{Kind: "cpu", Seconds: 500 * time.Millisecond}},
		{[]string{"stress", "fork"}, stressOptions{Kind: "fork", Max: 100}},
		{[]string{"stress", "fork", "--max", "30"}, stressOptions{Kind: "fork", Max: 30}},
	}
	for _, tt := range tests {
		e := newTestEnv(t)
		var got *stressOptions
		cmd := newCmdStress(e.f, func(o *stressOptions) error { got = o; return nil })
		cmd.SetArgs(tt.args[1:])
		if err := cmd.Execute(); err != nil {
			t.Errorf("%v: %v", tt.args, err)
			continue
		}
		got.IO = nil
		if *got != tt.want {
			t.Errorf("%v = %+v, want %+v", tt.args, *got, tt.want)
		}
	}
}

// Bad values: one line naming the value and the fix, exit 2.
func TestStressBadInput(t *testing.T) {
	for _, args := range [][]string{
		{"stress", "mem", "abc"},
		{"stress", "mem", "2G"},
		{"stress", "mem", "-5M"},
		{"stress", "mem", "0"},
		{"stress", "mem", "10M", "--hold", "99999"},
		{"stress", "mem"},
		{"stress", "cpu", "--seconds", "0"},
		{"stress", "cpu", "--seconds", "600"},
		{"stress", "fork", "--max", "0"},
		{"stress", "fork", "--max", "100000"},
	} {
		e := newTestEnv(t)
		if code := e.run(t, args...); code != ExitUsage {
			t.Errorf("%v: exit %d, want %d (%s)", args, code, ExitUsage, e.errOut)
		}
		oneLine(t, "error of "+args[len(args)-1], e.errOut.String())
	}
}

// TestStressRuns runs the generators briefly, for real: they are bounded
// and need no root.
func TestStressRuns(t *testing.T) {
	e := newTestEnv(t)
	if code := e.run(t, "stress", "mem", "20M"); code != ExitOK {
		t.Fatalf("stress mem: exit %d: %s", code, e.errOut)
	}
	mustContain(t, "stress mem", e.out.String(), "touched 16 MiB", "touched all 20 MiB")
	if code := e.run(t, "stress", "cpu", "--seconds", "0.1"); code != ExitOK {
		t.Fatalf("stress cpu: exit %d: %s", code, e.errOut)
	}
	mustContain(t, "stress cpu", e.out.String(), "of one CPU")
	if code := e.run(t, "stress", "fork", "--max", "5"); code != ExitOK {
		t.Fatalf("stress fork: exit %d: %s", code, e.errOut)
	}
	mustContain(t, "stress fork", e.out.String(), "forked all 5 children", "all killed")
}
