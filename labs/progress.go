package labs

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// StepStatus is what the learner has done with a step.
type StepStatus string

const (
	Todo   StepStatus = ""       // not done yet
	Passed StepStatus = "passed" // `lab check` saw it pass
	Solved StepStatus = "solved" // `lab solve` applied the reference solution
)

// StepProgress is the saved state of one step.
type StepProgress struct {
	Status StepStatus `json:"status,omitempty"`
	At     time.Time  `json:"at,omitzero"`     // when Status last changed
	Hints  int        `json:"hints,omitempty"` // Hints bullets revealed so far
	Answer *string    `json:"answer,omitempty"`
}

// Progress is the learner's saved state. Steps are keyed by their stable
// IDs, so a step that was renamed or removed only leaves an entry nobody
// reads: it never breaks loading, and it is kept when the file is written.
type Progress struct {
	Version int                      `json:"version"`
	Current string                   `json:"current,omitempty"` // the current step ID
	Steps   map[string]*StepProgress `json:"steps,omitempty"`
}

// ProgressVersion is the format written by this binary.
const ProgressVersion = 1

// Step returns the saved state of step id (the zero value when none).
func (p *Progress) Step(id string) StepProgress {
	if s := p.Steps[id]; s != nil {
		return *s
	}
	return StepProgress{}
}

func (p *Progress) step(id string) *StepProgress {
	if p.Steps == nil {
		p.Steps = map[string]*StepProgress{}
	}
	s := p.Steps[id]
	if s == nil {
		s = &StepProgress{}
		p.Steps[id] = s
	}
	return s
}

// MarkPassed records that step id passed its check. A step that was solved
// with `lab solve` stays solved: checking the reference solution is not
// passing the step.
func (p *Progress) MarkPassed(id string, now time.Time) {
	if s := p.step(id); s.Status != Solved {
		s.Status, s.At = Passed, now
	}
}

// MarkSolved records that the reference solution of step id was applied.
// A step the learner already passed stays passed.
func (p *Progress) MarkSolved(id string, now time.Time) {
	if s := p.step(id); s.Status != Passed {
		s.Status, s.At = Solved, now
	}
}

// RevealHint counts one more revealed hint of step id, up to limit, and
// returns how many are revealed.
func (p *Progress) RevealHint(id string, limit int) int {
	s := p.step(id)
	if s.Hints < limit {
		s.Hints++
	}
	return s.Hints
}

// CurrentLab is the lab part of the current step ID.
func (p *Progress) CurrentLab() string {
	lab, _, _ := strings.Cut(p.Current, "/")
	return lab
}

// ForgetLab removes every saved step of lab, and the current step if it is
// one of them.
func (p *Progress) ForgetLab(lab string) {
	for id := range p.Steps {
		if strings.HasPrefix(id, lab+"/") {
			delete(p.Steps, id)
		}
	}
	if p.CurrentLab() == lab {
		p.Current = ""
	}
}

// Store is the progress file in the state directory, shared by every lab
// process: writers take an exclusive flock(2) on a lock file beside it and
// replace the file atomically (write a temporary file, then rename(2) it
// over the old one), so a reader sees the old or the new state, never half
// of one, and two writers never lose each other's change.
type Store struct {
	Dir string // the state directory (/var/lib/lab, or LAB_ROOT)
}

// NewStore returns the store in dir.
func NewStore(dir string) *Store { return &Store{Dir: dir} }

// Path is the progress file.
func (s *Store) Path() string { return filepath.Join(s.Dir, "progress.json") }

func (s *Store) lockPath() string { return filepath.Join(s.Dir, "progress.lock") }

// CorruptError says the progress file cannot be read as progress. The file
// is left as it is: the learner may fix it or run `lab reset --all`.
type CorruptError struct {
	Path string
	Err  error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("state file %s is not valid progress (%v): fix it, or start over with `sudo lab reset --all`", e.Path, e.Err)
}

func (e *CorruptError) Unwrap() error { return e.Err }

// Load reads the progress. A missing file is empty progress. It takes no
// lock: rename(2) is atomic, so the file read is always a whole one.
func (s *Store) Load() (*Progress, error) {
	b, err := os.ReadFile(s.Path())
	if errors.Is(err, fs.ErrNotExist) {
		return &Progress{Version: ProgressVersion, Steps: map[string]*StepProgress{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read progress: %w", err)
	}
	return s.parse(b)
}

func (s *Store) parse(b []byte) (*Progress, error) {
	var p Progress
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, &CorruptError{Path: s.Path(), Err: err}
	}
	if p.Version < 1 {
		return nil, &CorruptError{Path: s.Path(), Err: fmt.Errorf("version %d", p.Version)}
	}
	if p.Steps == nil {
		p.Steps = map[string]*StepProgress{}
	}
	for id, st := range p.Steps {
		if st == nil {
			delete(p.Steps, id) // "id": null is an empty entry
		}
	}
	return &p, nil
}

// Update applies fn to the progress under the lock and writes the result.
// Nothing is written when fn or loading fails.
func (s *Store) Update(fn func(*Progress) error) error {
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	p, err := s.Load()
	if err != nil {
		return err
	}
	if err := fn(p); err != nil {
		return err
	}
	p.Version = ProgressVersion
	return s.write(p)
}

// Clear removes all progress, valid or not. An unreadable file is kept
// beside as progress.json.corrupt, so nothing the learner had is lost
// without a trace. It returns that path, or "".
func (s *Store) Clear() (kept string, err error) {
	unlock, err := s.lock()
	if err != nil {
		return "", err
	}
	defer unlock()
	b, err := os.ReadFile(s.Path())
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("read progress: %w", err)
	}
	if _, perr := s.parse(b); perr != nil {
		kept = s.Path() + ".corrupt"
		if err := os.Rename(s.Path(), kept); err != nil {
			return "", fmt.Errorf("keep corrupt progress: %w", err)
		}
		return kept, nil
	}
	if err := os.Remove(s.Path()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("remove progress: %w", err)
	}
	return "", nil
}

// lock takes the exclusive flock(2) on the lock file. The kernel drops it
// when the process dies, so a killed lab never leaves a stale lock.
func (s *Store) lock() (unlock func(), err error) {
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("create state directory: %w", err)
	}
	f, err := os.OpenFile(s.lockPath(), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open progress lock: %w", err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", s.lockPath(), err)
	}
	return func() { f.Close() }, nil // closing the last fd releases the flock
}

// write replaces the progress file atomically: the data goes to a
// temporary file in the same directory (rename only is atomic within one
// filesystem), is fsync'ed, then renamed over the old file.
func (s *Store) write(p *Progress) error {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return fmt.Errorf("encode progress: %w", err)
	}
	tmp, err := os.CreateTemp(s.Dir, ".progress-*.tmp")
	if err != nil {
		return fmt.Errorf("write progress: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write progress: %w", err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("write progress: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write progress: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write progress: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.Path()); err != nil {
		return fmt.Errorf("write progress: %w", err)
	}
	if d, err := os.Open(s.Dir); err == nil { // make the rename itself durable
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// SetAnswer records a quiz answer (steps.AnswerStore).
func (s *Store) SetAnswer(stepID, answer string) error {
	return s.Update(func(p *Progress) error {
		p.step(stepID).Answer = &answer
		return nil
	})
}

// ClearAnswer forgets a quiz answer (steps.AnswerStore). It is idempotent.
func (s *Store) ClearAnswer(stepID string) error {
	if p, err := s.Load(); err == nil && p.Step(stepID).Answer == nil {
		return nil // nothing to forget: do not even take the lock
	}
	return s.Update(func(p *Progress) error {
		if st := p.Steps[stepID]; st != nil {
			st.Answer = nil
		}
		return nil
	})
}

// Answer returns the recorded quiz answer of stepID; use it as
// checker.LiveHost.Answers. Unreadable progress has no answers.
func (s *Store) Answer(stepID string) (string, bool) {
	p, err := s.Load()
	if err != nil {
		return "", false
	}
	if a := p.Step(stepID).Answer; a != nil {
		return *a, true
	}
	return "", false
}
