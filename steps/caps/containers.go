package capslab

import "github.com/lab-edu/lab/steps"

// containersQuiz links capabilities to containers: what Docker keeps by
// default, and what Linux-VServer withholds from a guest.
var containersQuiz = steps.MultipleChoice(
	"Which statements are true? (answer with every right letter, e.g. --answer a,c)",
	[]string{
		"Docker's default set has 14 capabilities, among them CAP_NET_RAW, CAP_CHOWN and CAP_NET_BIND_SERVICE, so ping and a web server on port 80 work in a default container.",
		"Docker keeps CAP_SYS_ADMIN by default, so that a container's root can mount filesystems.",
		"A container's root keeps capabilities that act on what it owns (CAP_CHOWN, CAP_KILL, CAP_SETUID: Docker and a Linux-VServer guest both keep these) but not those that act on the whole machine (CAP_SYS_MODULE, CAP_SYS_TIME).",
		"A setuid-root binary inside a container gives back capabilities that were dropped from the container's bounding set.",
		"Without CAP_SYS_ADMIN, root in a container can still load a kernel module if it has CAP_DAC_OVERRIDE.",
	},
	"a", "c",
)

// Containers is the closing quiz.
var Containers = steps.Step{
	ID:      "caps/containers",
	Title:   "Capabilities and containers",
	Quiz:    containersQuiz,
	Solve:   steps.SolveQuiz("caps/containers", containersQuiz),
	Cleanup: steps.ClearQuiz("caps/containers"),
}
