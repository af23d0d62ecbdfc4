// Command lab is an educational container lab toolkit: it walks students
// from chroot to a mini-Docker and checks their work against live kernel
// state.
package main

import (
	"os"

	"github.com/lab-edu/lab/cmd/internal/cli"
)

func main() { os.Exit(cli.Main()) }
