package procfs_test

import (
	"fmt"
	"strings"

	"github.com/lab-edu/lab/kernel/procfs"
)

// A process in a nested PID namespace has one NSpid entry per level: its
// pid as seen from the host, then from each namespace down to its own.
func ExampleParseStatus() {
	s, _ := procfs.ParseStatus(strings.NewReader("Name:\tsh\nNSpid:\t4242\t7\t1\nCapEff:\t0000000000002000\n"))
	fmt.Println(s.Name, s.NSpid, s.CapEff == 1<<13)
	// Output: sh [4242 7 1] true
}
