package checker

import (
	"encoding/json"
	"io"
)

// classroomResult is the result JSON of GitHub Classroom's autograding
// graders (classroom-resources/autograding-command-grader and friends),
// which classroom-resources/autograding-grading-reporter reads: version 1,
// an overall status, the maximum score, and one entry per test.
type classroomResult struct {
	Version  int             `json:"version"`
	Status   string          `json:"status"` // pass, fail or error
	MaxScore int             `json:"max_score"`
	Tests    []classroomTest `json:"tests"`
}

type classroomTest struct {
	Name     string  `json:"name"`
	Status   string  `json:"status"` // pass, fail or error
	Message  string  `json:"message"`
	TestCode string  `json:"test_code"`
	Filename string  `json:"filename"`
	LineNo   int     `json:"line_no"`
	Score    float64 `json:"score"`
	MaxScore int     `json:"max_score"`
}

// WriteClassroom renders the reports as one Classroom result.
func WriteClassroom(w io.Writer, reports []Report) error {
	res := classroomResult{Version: 1, Status: "pass", Tests: []classroomTest{}}
	for _, r := range reports {
		res.MaxScore += r.MaxPoints
		for _, s := range r.Steps {
			t := classroomTest{
				Name:     s.ID + ": " + s.Title,
				Status:   classroomStatus(s.Result.Status),
				Message:  s.Result.Message(),
				TestCode: "lab check " + s.ID,
				Score:    s.Points,
				MaxScore: s.MaxPoints,
			}
			res.Tests = append(res.Tests, t)
			switch {
			case t.Status == "error":
				res.Status = "error"
			case t.Status == "fail" && res.Status == "pass":
				res.Status = "fail"
			}
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(res)
}

// classroomStatus maps a status: a skipped step could not be graded,
// which Classroom calls an error.
func classroomStatus(s Status) string {
	switch s {
	case Pass:
		return "pass"
	case Fail:
		return "fail"
	}
	return "error"
}
