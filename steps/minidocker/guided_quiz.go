package minidockerlab

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/kernel/caps"
	"github.com/lab-edu/lab/kernel/container"
	"github.com/lab-edu/lab/kernel/ns"
	"github.com/lab-edu/lab/steps"
)

// The look-around steps are live quizzes: the question names lab-web's
// PID, and the right answer is read from the kernel when the answer is
// graded, so it is what the course's tools show on this machine, not a
// fact to copy.

// liveQuiz builds a quiz on lab-web: text asks (given its PID), truth reads
// the right answer from the kernel, same compares an answer with it.
func liveQuiz(text func(w web) string, choices []string, truth func(h checker.Host, w web) (string, error), same func(answer, want string) bool) *steps.Quiz {
	return &steps.Quiz{
		Ask: func(ctx context.Context, h checker.Host) (steps.Question, error) {
			w, r := findWeb(h)
			if r != nil {
				return steps.Question{}, fmt.Errorf("%s (%s)", r.Reason, r.Hint)
			}
			return steps.Question{Text: text(w), Choices: choices}, nil
		},
		Grade: func(ctx context.Context, h checker.Host, answer string) checker.Result {
			const name = "quiz answer"
			w, r := findWeb(h)
			if r != nil {
				return *r
			}
			want, err := truth(h, w)
			if err != nil {
				return checker.Errored(name, err)
			}
			if !same(answer, want) {
				return checker.Failed(name, fmt.Sprintf("%q is not what the kernel says about %s (PID %d)", answer, webName, w.PID),
					"look again with the command the question names")
			}
			return checker.Passed(name, fmt.Sprintf("answered %q, as the kernel says", answer))
		},
		Solution: func(ctx context.Context, h checker.Host) (string, error) {
			w, r := findWeb(h)
			if r != nil {
				return "", fmt.Errorf("%s", r.Reason)
			}
			return truth(h, w)
		},
	}
}

// quizStep is a live quiz step that starts from a running lab-web.
func quizStep(slug, title string, q *steps.Quiz) steps.Step {
	id := ID + "/" + slug
	return steps.Step{
		ID: id, Title: title, Quiz: q,
		Setup: func(ctx context.Context, env *steps.Env) error {
			if err := Run.Setup(ctx, env); err != nil {
				return err
			}
			return Run.Solve(ctx, env)
		},
		Solve:   steps.SolveQuiz(id, q),
		Cleanup: steps.ClearQuiz(id),
	}
}

// nsKindsShown are the kinds `lab ns ls` lists, as the namespaces quiz's
// choices.
var nsKindsShown = []ns.Kind{ns.Cgroup, ns.IPC, ns.Mount, ns.Net, ns.PID, ns.Time, ns.User, ns.UTS}

// SeeNamespaces: which of lab-web's namespaces are the host's.
var SeeNamespaces = quizStep("see-namespaces", "See the container's namespaces with lab ns ls", liveQuiz(
	func(w web) string {
		return fmt.Sprintf("lab-web's PID 1 is PID %d on the host. Run `sudo lab ns ls --pid %d`: which of its namespaces are the host's? (all that apply)", w.PID, w.PID)
	},
	kindNames(),
	func(h checker.Host, w web) (string, error) {
		var letters []string
		for i, k := range nsKindsShown {
			theirs, err1 := ns.Of(h.FS(), w.PID, k)
			ours, err2 := ns.Of(h.FS(), os.Getpid(), k)
			if err1 != nil || err2 != nil {
				continue // a kind this kernel lacks (time before 5.6)
			}
			if theirs.Equal(ours) {
				letters = append(letters, steps.Letter(i))
			}
		}
		return strings.Join(letters, ","), nil
	},
	func(answer, want string) bool { return slices.Equal(letters(answer), letters(want)) },
))

func kindNames() []string {
	var out []string
	for _, k := range nsKindsShown {
		out = append(out, string(k))
	}
	return out
}

// letters normalizes "B, a" to [a b].
func letters(s string) []string {
	f := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return r == ',' || r == ' ' })
	slices.Sort(f)
	return slices.Compact(f)
}

// SeeCgroup: the memory limit of lab-web's group, in bytes.
var SeeCgroup = quizStep("see-cgroup", "See the container's cgroup with lab cgroup show", liveQuiz(
	func(w web) string {
		return fmt.Sprintf("Run `sudo lab cgroup show %d` (lab-web's PID 1). How many bytes of memory may its group use? (a number, or a size like 64m)", w.PID)
	},
	nil,
	func(h checker.Host, w web) (string, error) {
		l, _, err := webMemoryLimit(h.FS(), w.PID)
		if err != nil {
			return "", err
		}
		if l.Max {
			return "max", nil
		}
		return fmt.Sprint(l.Value), nil
	},
	func(answer, want string) bool {
		n, err := container.ParseMemory(strings.TrimSpace(answer))
		return err == nil && fmt.Sprint(n) == want
	},
))

// SeeCaps: the one capability of Docker's default set lab-web lacks.
var SeeCaps = quizStep("see-caps", "See the container's capabilities with lab caps show", liveQuiz(
	func(w web) string {
		return fmt.Sprintf("Run `sudo lab caps show %d` (lab-web's PID 1). Which capability of Docker's default 14 is not in its bounding set? (a name like cap_chown)", w.PID)
	},
	nil,
	func(h checker.Host, w web) (string, error) {
		sets, err := caps.ReadSets(h.FS(), w.PID)
		if err != nil {
			return "", err
		}
		missing := (caps.DockerDefault &^ sets.Bounding).Names()
		if len(missing) == 0 {
			return "", fmt.Errorf("%s keeps all of Docker's default capabilities", webName)
		}
		return missing[0], nil
	},
	func(answer, want string) bool {
		c, err1 := caps.ParseCap(answer)
		w, err2 := caps.ParseCap(want)
		return err1 == nil && err2 == nil && c == w
	},
))

// SeeNet: the host's end of lab-web's veth.
var SeeNet = quizStep("see-net", "See the container's network with lab net show", liveQuiz(
	func(w web) string {
		return fmt.Sprintf("Run `sudo lab net show host` and `sudo lab ps`. What is the name, on the host, of the veth whose other end is lab-web's eth0? (lab-web's PID 1 is PID %d)", w.PID)
	},
	nil,
	func(h checker.Host, w web) (string, error) { return hostVethOf(w.PID) },
	func(answer, want string) bool { return strings.TrimSpace(answer) == want },
))
