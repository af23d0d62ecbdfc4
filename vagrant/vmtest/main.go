// Command vmtest is the host side of `make test-vm` (vagrant/vmtest/run.sh):
//
//	vmtest labs           print the ID of every catalogued lab, one per line
//	vmtest summary SHARE  read the results the VM wrote into SHARE, print the
//	                      failures and `vm: N passed, N failed`, exit 1 on any
//
// The guest side is guest.sh, a shell script: the image has no Go toolchain.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/lab-edu/lab/labs"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 1 && args[0] == "labs":
		for _, l := range labs.All() {
			fmt.Fprintln(stdout, l.ID)
		}
		return 0
	case len(args) == 2 && args[0] == "summary":
		s, err := ReadShare(args[1])
		if err != nil {
			fmt.Fprintf(stderr, "vm: %v\n", err)
			return 1
		}
		s.Print(stdout)
		if s.Failed() > 0 {
			return 1
		}
		return 0
	default:
		fmt.Fprintln(stderr, "usage: vmtest labs | vmtest summary SHARE")
		return 2
	}
}
