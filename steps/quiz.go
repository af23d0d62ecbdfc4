package steps

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/lab-edu/lab/checker"
)

// Question is what the learner is asked. No Choices means a free-text answer.
type Question struct {
	Text    string
	Choices []string // answered by letter: "a" is Choices[0]
}

// Quiz is a step whose concept cannot be observed in kernel state, or whose
// answer depends on live state (then Ask reads the host, so it cannot be
// guessed or copied from a neighbour).
type Quiz struct {
	Ask   func(ctx context.Context, h checker.Host) (Question, error)
	Grade func(ctx context.Context, h checker.Host, answer string) checker.Result
	// Solution returns the right answer, for `lab solve`.
	Solution func(ctx context.Context, h checker.Host) (string, error)
}

// check grades the answer recorded for stepID.
func (q *Quiz) check(stepID string) checker.Check {
	return func(ctx context.Context, h checker.Host) checker.Result {
		answer, ok := h.Answer(stepID)
		if !ok {
			return checker.Failed("quiz answered", "no answer recorded for "+stepID,
				"run `lab check "+stepID+"` on a terminal, or `lab check "+stepID+" --answer X`")
		}
		return q.Grade(ctx, h, answer)
	}
}

// SolveQuiz records the right answer; use it as a quiz step's Solve.
func SolveQuiz(stepID string, q *Quiz) func(ctx context.Context, env *Env) error {
	return func(ctx context.Context, env *Env) error {
		a, err := q.Solution(ctx, env.Host)
		if err != nil {
			return fmt.Errorf("solve quiz %s: %w", stepID, err)
		}
		return env.Answers.SetAnswer(stepID, a)
	}
}

// ClearQuiz forgets the recorded answer; use it as a quiz step's Cleanup.
func ClearQuiz(stepID string) func(ctx context.Context, env *Env) error {
	return func(ctx context.Context, env *Env) error { return env.Answers.ClearAnswer(stepID) }
}

// Letter returns the answer key of choice i: 0 is "a".
func Letter(i int) string { return string(rune('a' + i)) }

// MultipleChoice is a static quiz: one question, choices answered by letter,
// and the set of letters that make the right answer (order does not matter,
// so "b,d" and "d b" are the same answer).
func MultipleChoice(text string, choices []string, correct ...string) *Quiz {
	want := normalizeLetters(strings.Join(correct, ","))
	return &Quiz{
		Ask: func(context.Context, checker.Host) (Question, error) {
			return Question{Text: text, Choices: choices}, nil
		},
		Grade: func(_ context.Context, _ checker.Host, answer string) checker.Result {
			got := normalizeLetters(answer)
			for _, l := range got {
				if l < "a" || int(l[0]-'a') >= len(choices) {
					return checker.Failed("quiz answer", fmt.Sprintf("answer %q is not one of a-%s", answer, Letter(len(choices)-1)),
						"answer with the letters of the choices, for example --answer b or --answer a,c")
				}
			}
			if !slices.Equal(got, want) {
				return checker.Failed("quiz answer", "answer "+strings.Join(got, ",")+" is not right",
					"re-read the Background section, then try again")
			}
			return checker.Passed("quiz answer", "answered "+strings.Join(got, ","))
		},
		Solution: func(context.Context, checker.Host) (string, error) { return strings.Join(want, ","), nil },
	}
}

// normalizeLetters turns "B, a" into [a b].
func normalizeLetters(s string) []string {
	fields := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return r == ',' || r == ' ' })
	slices.Sort(fields)
	return slices.Compact(fields)
}
