package cgroupslab

import (
	"github.com/lab-edu/lab/steps"
)

var weightQuiz = steps.MultipleChoice(
	"Groups A and B each run a busy process on a machine with ONE CPU. A has cpu.weight 200 "+
		"(v1: cpu.shares 2048), B has cpu.weight 100 (cpu.shares 1024), and neither has a quota "+
		"(cpu.max \"max 100000\", cpu.cfs_quota_us -1). Which statements are true?",
	[]string{
		"A gets about two thirds of the CPU and B one third, while both are busy",
		"A can never use more than two thirds of the CPU, even when B is idle",
		"When B is idle, A may use the whole CPU: a weight only divides what is contended",
		"To cap A at 20% of a CPU even on an idle machine, set a quota (cpu.max / cpu.cfs_quota_us), not a weight",
		"A weight of 200 means 200 ms of CPU time per second",
	},
	"a", "c", "d",
)

// Weight: prioritisation (weights, shares) versus limitation (quotas).
var Weight = steps.Step{
	ID:      "cgroups/weight",
	Title:   "Prioritise or limit: cpu.weight versus cpu.max",
	Quiz:    weightQuiz,
	Solve:   steps.SolveQuiz("cgroups/weight", weightQuiz),
	Cleanup: steps.ClearQuiz("cgroups/weight"),
}
