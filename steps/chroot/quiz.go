package chrootlab

import "github.com/lab-edu/lab/steps"

var quiz = steps.MultipleChoice(
	"Which statements about chroot and pivot_root are true? (answer with every right letter)",
	[]string{
		"chroot changes the root directory of one process; the mounts of its mount namespace do not change",
		"a root process inside a plain chroot can get back to the host's / with chroot and chdir(\"..\")",
		"chroot gives the process its own process list: ps inside it shows only its own processes",
		"pivot_root moves the root mount of the calling process's mount namespace; after umount -l of the old root no path leads back to the host's files",
		"pivot_root works on any directory, even one that is not a mount point",
	},
	"a", "b", "d",
)

// Quiz checks the difference between chroot and pivot_root.
var Quiz = steps.Step{
	ID:      "chroot/quiz",
	Title:   "Quiz: chroot versus pivot_root",
	Points:  5,
	Quiz:    quiz,
	Solve:   steps.SolveQuiz("chroot/quiz", quiz),
	Cleanup: steps.ClearQuiz("chroot/quiz"),
}
