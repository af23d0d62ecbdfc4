package netnslab

import "github.com/lab-edu/lab/steps"

const quizID = "netns/isolation"

var isolationQuiz = steps.MultipleChoice(
	"Which of these statements about network namespaces are true? (give every true one)",
	[]string{
		"Each network namespace has its own network interfaces, including its own loopback lo",
		"Each has its own IP addresses and its own routing table",
		"Each has its own TCP and UDP ports: two namespaces can both listen on port 80 at once",
		"Each has its own iptables (netfilter) rules and connection-tracking table",
		"Each has its own list of processes, as ps shows it",
		"Each has its own host name",
		"Each has its own mounted filesystems",
		"lo can be moved into another namespace, like a veth end",
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
