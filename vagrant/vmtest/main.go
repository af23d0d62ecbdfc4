// Command vmtest is the host side of `make test-vm` (vagrant/vmtest/run.sh):
//
//	vmtest labs           print the ID of every catalogued lab, one per line
//	vmtest submission LAB print a model student submission for LAB: every
//	                      step's Solution commands in order, as the LAB.sh
//	                      that `lab grade --submission DIR` runs (make test-vagrant)
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
	case len(args) == 2 && args[0] == "submission":
		script, err := submission(args[1])
		if err != nil {
			fmt.Fprintf(stderr, "vm: %v\n", err)
			return 2
		}
		fmt.Fprint(stdout, script)
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
		fmt.Fprintln(stderr, "usage: vmtest labs | vmtest submission LAB | vmtest summary SHARE")
		return 2
	}
}

// DefaultWork is where lab keeps a lab's workspace on a machine with the
// default LAB_ROOT, as in the box: what {{work}} stands for in the lessons.
const DefaultWork = "/var/lib/lab/work"

// submission is the model submission of a lab for the box, whose
// LAB_ROOT is the default.
func submission(labID string) (string, error) {
	lab, err := labs.Find(labs.All(), labID)
	if err != nil {
		return "", err
	}
	return labs.ModelSubmission(lab, DefaultWork+"/"+lab.ID)
}
