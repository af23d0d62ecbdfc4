package checker

import (
	"encoding/xml"
	"io"
	"strings"
)

// JUnit XML, in the shape Jenkins, GitLab and GitHub test reporters read:
// <testsuites> holds one <testsuite> per lab and one <testcase> per step.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
	SystemOut  string          `xml:"system-out,omitempty"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitProblem `xml:"failure"`
	Error     *junitProblem `xml:"error"`
	Skipped   *junitProblem `xml:"skipped"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Body    string `xml:",chardata"`
}

// WriteJUnit renders the reports as JUnit XML.
func WriteJUnit(w io.Writer, reports []Report) error {
	doc := junitSuites{Name: "lab"}
	for _, r := range reports {
		n := r.Count()
		suite := junitSuite{
			Name: r.Lab, Tests: len(r.Steps),
			Failures: n[Fail], Errors: n[Error], Skipped: n[Skip],
			Properties: []junitProperty{
				{Name: "points", Value: FormatPoints(r.Points)},
				{Name: "max_points", Value: FormatPoints(float64(r.MaxPoints))},
			},
			SystemOut: strings.Join(r.Evidence, "\n"),
		}
		for _, s := range r.Steps {
			suite.Cases = append(suite.Cases, junitStep(r.Lab, s))
		}
		doc.Suites = append(doc.Suites, suite)
		doc.Tests += suite.Tests
		doc.Failures += suite.Failures
		doc.Errors += suite.Errors
		doc.Skipped += suite.Skipped
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func junitStep(lab string, s StepReport) junitCase {
	r := s.Result
	c := junitCase{Name: s.ID + ": " + s.Title, Classname: lab}
	var body []string
	for _, line := range []struct{ k, v string }{
		{"expected", r.Expected}, {"found", r.Found}, {"hint", r.Hint},
	} {
		if line.v != "" {
			body = append(body, line.k+": "+line.v)
		}
	}
	body = append(body, "points: "+FormatPoints(s.Points)+"/"+FormatPoints(float64(s.MaxPoints)))
	problem := &junitProblem{Message: r.Reason, Type: string(r.Status), Body: strings.Join(body, "\n")}
	switch r.Status {
	case Pass:
		c.SystemOut = strings.Join(r.Evidence, "\n")
	case Fail:
		c.Failure = problem
	case Skip:
		c.Skipped = &junitProblem{Message: r.Reason}
	default:
		c.Error = problem
	}
	return c
}
