// Package prompt asks the learner questions on a terminal. Commands use the
// Prompter interface only when both stdin and stdout are terminals; tests
// use Scripted.
package prompt

import (
	"errors"
	"fmt"
	"io"

	"github.com/AlecAivazis/survey/v2"
	"github.com/AlecAivazis/survey/v2/terminal"
)

// ErrInterrupted is returned when the learner presses Ctrl-C at a prompt.
var ErrInterrupted = errors.New("prompt: interrupted")

// Prompter asks one question at a time.
type Prompter interface {
	// Select returns the index of the one option chosen.
	Select(message string, options []string) (int, error)
	// MultiSelect returns the indexes of the options chosen, in order.
	MultiSelect(message string, options []string) ([]int, error)
	// Input returns a line of free text.
	Input(message string) (string, error)
}

// Survey is the terminal Prompter, built on AlecAivazis/survey.
type Survey struct {
	in  terminal.FileReader
	out terminal.FileWriter
	err io.Writer
}

// NewSurvey returns a survey Prompter on these streams. in and out must be
// terminal files (os.Stdin, os.Stdout): survey puts the terminal in raw
// mode through their file descriptors.
func NewSurvey(in io.Reader, out, errOut io.Writer) Prompter {
	s := &Survey{err: errOut}
	s.in, _ = in.(terminal.FileReader)
	s.out, _ = out.(terminal.FileWriter)
	return s
}

func (s *Survey) ask(p survey.Prompt, answer any) error {
	if s.in == nil || s.out == nil {
		return errors.New("prompt: stdin and stdout must be a terminal")
	}
	err := survey.AskOne(p, answer, survey.WithStdio(s.in, s.out, s.err))
	if errors.Is(err, terminal.InterruptErr) {
		return ErrInterrupted
	}
	if err != nil {
		return fmt.Errorf("prompt: %w", err)
	}
	return nil
}

// Select asks for one of options.
func (s *Survey) Select(message string, options []string) (int, error) {
	var i int
	err := s.ask(&survey.Select{Message: message, Options: options}, &i)
	return i, err
}

// MultiSelect asks for any number of options.
func (s *Survey) MultiSelect(message string, options []string) ([]int, error) {
	var is []int
	err := s.ask(&survey.MultiSelect{Message: message, Options: options}, &is)
	return is, err
}

// Input asks for a line of text.
func (s *Survey) Input(message string) (string, error) {
	var text string
	err := s.ask(&survey.Input{Message: message}, &text)
	return text, err
}
