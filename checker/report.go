package checker

import (
	"fmt"
	"math"
	"strings"
)

// StepReport is the graded result of one step.
type StepReport struct {
	ID        string  `json:"id"`
	Title     string  `json:"title"`
	Points    float64 `json:"points"` // MaxPoints × Result.Score, to 0.01
	MaxPoints int     `json:"max_points"`
	Result    Result  `json:"result"`
}

// NewStepReport scores r out of maxPoints. Partial credit (a Weighted
// check's Score between 0 and 1) earns the same fraction of the points.
func NewStepReport(id, title string, maxPoints int, r Result) StepReport {
	score := min(max(r.Score, 0), 1)
	if r.OK() {
		score = 1
	}
	return StepReport{
		ID: id, Title: title, MaxPoints: maxPoints, Result: r,
		Points: round2(score * float64(maxPoints)),
	}
}

// Report is one lab, graded step by step.
type Report struct {
	Lab       string       `json:"lab"`
	Title     string       `json:"title,omitempty"`
	Steps     []StepReport `json:"steps"`
	Points    float64      `json:"points"`
	MaxPoints int          `json:"max_points"`
	// Evidence is about the run as a whole, for example what a submitted
	// script printed.
	Evidence []string `json:"evidence,omitempty"`
}

// Add appends a step and adds its points to the totals.
func (r *Report) Add(s StepReport) {
	r.Steps = append(r.Steps, s)
	r.Points = round2(r.Points + s.Points)
	r.MaxPoints += s.MaxPoints
}

// Passed reports whether every step passed.
func (r Report) Passed() bool {
	for _, s := range r.Steps {
		if !s.Result.OK() {
			return false
		}
	}
	return true
}

// Count returns how many steps ended with each status.
func (r Report) Count() map[Status]int {
	n := map[Status]int{}
	for _, s := range r.Steps {
		n[s.Result.Status]++
	}
	return n
}

// Totals adds up points over several reports.
func Totals(reports []Report) (points float64, maxPoints int) {
	for _, r := range reports {
		points += r.Points
		maxPoints += r.MaxPoints
	}
	return round2(points), maxPoints
}

// AllPassed reports whether every step of every report passed.
func AllPassed(reports []Report) bool {
	for _, r := range reports {
		if !r.Passed() {
			return false
		}
	}
	return true
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }

// FormatPoints prints points without a useless ".00": 7, 7.5, 6.67.
func FormatPoints(f float64) string {
	s := fmt.Sprintf("%.2f", f)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// Message is the one-paragraph explanation of a result for reports that
// have one message field: the reason, then what to try.
func (r Result) Message() string {
	msg := r.Reason
	if r.Hint != "" {
		if msg != "" {
			msg += "; "
		}
		msg += "hint: " + r.Hint
	}
	return msg
}
