package overlaylab

import "github.com/lab-edu/lab/steps"

var volumesQuiz = steps.MultipleChoice(
	"A database container writes its data files under /var/lib/postgresql. Which statements are true? (answer with every right letter)",
	[]string{
		"the first write to a large file that came from an image layer copies the whole file up into the upper dir, which is slow",
		"the upper dir is removed with the container (docker rm), so data kept only there is lost",
		"a volume is a directory outside the layers (a bind mount) mounted over a path in the container: writes skip copy-up and outlive the container",
		"a volume is an extra read-only image layer that overlayfs puts under the upper dir",
		"overlayfs refuses to store files larger than 2 GiB, so databases cannot run on it at all",
	},
	"a", "b", "c",
)

// Volumes: why data belongs on a volume, not in the container's layer.
var Volumes = steps.Step{
	ID:      "overlay/volumes",
	Title:   "Quiz: databases, the union filesystem and volumes",
	Points:  5,
	Quiz:    volumesQuiz,
	Solve:   steps.SolveQuiz("overlay/volumes", volumesQuiz),
	Cleanup: steps.ClearQuiz("overlay/volumes"),
}
