package prompt

import (
	"fmt"
	"slices"
)

// Scripted is a Prompter for tests: it replays Answers in order and
// records every message it was asked. An answer is an int (Select), a
// []int (MultiSelect), a string (Input) or an error (returned as is).
type Scripted struct {
	Answers []any
	Asked   []string
}

func (s *Scripted) next(message string) (any, error) {
	s.Asked = append(s.Asked, message)
	if len(s.Answers) == 0 {
		return nil, fmt.Errorf("prompt: no scripted answer for %q", message)
	}
	a := s.Answers[0]
	s.Answers = s.Answers[1:]
	if err, ok := a.(error); ok {
		return nil, err
	}
	return a, nil
}

// Select returns the next scripted int.
func (s *Scripted) Select(message string, options []string) (int, error) {
	a, err := s.next(message)
	if err != nil {
		return 0, err
	}
	i, ok := a.(int)
	if !ok || i < 0 || i >= len(options) {
		return 0, fmt.Errorf("prompt: scripted answer %v is not an option index of %q", a, message)
	}
	return i, nil
}

// MultiSelect returns the next scripted []int.
func (s *Scripted) MultiSelect(message string, options []string) ([]int, error) {
	a, err := s.next(message)
	if err != nil {
		return nil, err
	}
	is, ok := a.([]int)
	if !ok || slices.ContainsFunc(is, func(i int) bool { return i < 0 || i >= len(options) }) {
		return nil, fmt.Errorf("prompt: scripted answer %v is not option indexes of %q", a, message)
	}
	return is, nil
}

// Input returns the next scripted string.
func (s *Scripted) Input(message string) (string, error) {
	a, err := s.next(message)
	if err != nil {
		return "", err
	}
	text, ok := a.(string)
	if !ok {
		return "", fmt.Errorf("prompt: scripted answer %v is not text for %q", a, message)
	}
	return text, nil
}
