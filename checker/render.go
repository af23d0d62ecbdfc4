package checker

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Format names a report renderer.
type Format string

const (
	FormatText      Format = "text"
	FormatJSON      Format = "json"
	FormatJUnit     Format = "junit"     // JUnit XML, as CI systems read it
	FormatTAP       Format = "tap"       // Test Anything Protocol, version 14
	FormatClassroom Format = "classroom" // GitHub Classroom autograding result
)

// Formats lists every format, for flags and error messages.
var Formats = []Format{FormatText, FormatJSON, FormatJUnit, FormatTAP, FormatClassroom}

// ParseFormat checks a format name.
func ParseFormat(s string) (Format, error) {
	if f := Format(s); slices.Contains(Formats, f) {
		return f, nil
	}
	names := make([]string, len(Formats))
	for i, f := range Formats {
		names[i] = string(f)
	}
	return "", fmt.Errorf("unknown format %q: use one of %s", s, strings.Join(names, ", "))
}

// TextOptions tune the text renderer.
type TextOptions struct {
	Color bool // ANSI colours, for a terminal only
}

// Write renders reports in format f.
func Write(w io.Writer, f Format, reports []Report, opts TextOptions) error {
	switch f {
	case FormatText:
		return WriteText(w, reports, opts)
	case FormatJSON:
		return WriteJSON(w, reports)
	case FormatJUnit:
		return WriteJUnit(w, reports)
	case FormatTAP:
		return WriteTAP(w, reports)
	case FormatClassroom:
		return WriteClassroom(w, reports)
	}
	_, err := ParseFormat(string(f))
	return err
}

// jsonGrade is the JSON document: every lab, and the totals.
type jsonGrade struct {
	Labs      []Report `json:"labs"`
	Points    float64  `json:"points"`
	MaxPoints int      `json:"max_points"`
	Passed    bool     `json:"passed"`
}

// WriteJSON renders the reports as one JSON document with lowercase keys.
func WriteJSON(w io.Writer, reports []Report) error {
	points, maxPoints := Totals(reports)
	doc := jsonGrade{Labs: reports, Points: points, MaxPoints: maxPoints, Passed: AllPassed(reports)}
	if doc.Labs == nil {
		doc.Labs = []Report{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
