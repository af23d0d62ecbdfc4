package netnslab

import "github.com/lab-edu/lab/steps"

const quizID = "netns/isolation"

var isolationQuiz = steps.MultipleChoice(
	"Two processes run in two different network namespaces. Which of these does each namespace have its own copy of? (several answers)",
	[]string{
		"network interfaces, including its own loopback lo",
		"IP addresses and the routing table",
		"TCP and UDP ports: both can listen on port 80 at once",
		"iptables (netfilter) rules and conntrack entries",
		"the list of processes that ps shows",
		"the host name",
		"the mounted filesystems",
		"nothing per namespace: lo can be moved from one namespace to another like a veth end",
	},
	"a", "b", "c", "d")

// QuizStep: what a network namespace isolates.
var QuizStep = steps.Step{
	ID:      quizID,
	Title:   "Quiz: what a network namespace isolates",
	Quiz:    isolationQuiz,
	Solve:   steps.SolveQuiz(quizID, isolationQuiz),
	Cleanup: steps.ClearQuiz(quizID),
}
