package cli

import (
	"testing"
)

// BenchmarkCheck measures a whole `lab check` of a step without a
// behavioural probe (a file check, as cheap as a /proc read): command tree,
// progress load, the check, printing, and for a pass the locked atomic
// progress write and the next lesson. The acceptance is "well under
// 100 ms" per check.
func BenchmarkCheck(b *testing.B) {
	for _, tt := range []struct {
		name string
		pass bool
	}{{"fail", false}, {"pass", true}} {
		b.Run(tt.name, func(b *testing.B) {
			e := newTestEnv(b)
			if code := e.run(b, "start", "demo"); code != 0 {
				b.Fatal(code)
			}
			if tt.pass {
				e.write(b, "flag")
			}
			want := ExitFailed
			if tt.pass {
				want = ExitOK
			}
			b.ResetTimer()
			for b.Loop() {
				if code := e.run(b, "check", "demo/file"); code != want {
					b.Fatalf("check: exit %d, want %d", code, want)
				}
			}
		})
	}
}
