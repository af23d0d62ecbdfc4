package prompt

import (
	"errors"
	"slices"
	"testing"
)

func TestScripted(t *testing.T) {
	p := &Scripted{Answers: []any{1, []int{0, 2}, "hello", ErrInterrupted, 5}}
	if i, err := p.Select("pick", []string{"a", "b"}); err != nil || i != 1 {
		t.Fatalf("Select = %d, %v, want 1, nil", i, err)
	}
	if is, err := p.MultiSelect("many", []string{"a", "b", "c"}); err != nil || !slices.Equal(is, []int{0, 2}) {
		t.Fatalf("MultiSelect = %v, %v, want [0 2], nil", is, err)
	}
	if s, err := p.Input("say"); err != nil || s != "hello" {
		t.Fatalf("Input = %q, %v, want hello, nil", s, err)
	}
	if _, err := p.Input("again"); !errors.Is(err, ErrInterrupted) {
		t.Fatalf("Input error = %v, want ErrInterrupted", err)
	}
	if _, err := p.Select("out of range", []string{"a"}); err == nil {
		t.Fatal("Select with index 5 of 1 option: want an error")
	}
	if _, err := p.Select("empty", []string{"a"}); err == nil {
		t.Fatal("Select with no answers left: want an error")
	}
	if want := []string{"pick", "many", "say", "again", "out of range", "empty"}; !slices.Equal(p.Asked, want) {
		t.Fatalf("Asked = %q, want %q", p.Asked, want)
	}
}

func TestSurveyNeedsTerminal(t *testing.T) {
	p := NewSurvey(nil, nil, nil)
	if _, err := p.Select("pick", []string{"a"}); err == nil {
		t.Fatal("Select without a terminal: want an error")
	}
}
