// Command lab-init is the first process of every lab container: lab starts
// it in the container's new namespaces, and it sets up the container's
// root, limits and privileges, then execs the container's command, which
// takes over its PID (1). Its second role, "lab-init wait", is the waiting
// part of a detached container's supervisor. It is never run by hand; see
// kernel/container/ctrinit.
//
// It is a binary of its own, installed beside lab, because it is small:
// it starts several times faster than lab, which links the whole course,
// and it sleeps in a fraction of lab's memory.
package main

import (
	"os"

	"github.com/lab-edu/lab/kernel/container/ctrinit"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "wait" {
		ctrinit.WaitMain()
	}
	ctrinit.Main()
}
