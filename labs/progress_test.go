package labs_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lab-edu/lab/labs"
)

func TestProgressRoundTrip(t *testing.T) {
	s := labs.NewStore(filepath.Join(t.TempDir(), "state"))
	p, err := s.Load()
	if err != nil || p.Current != "" || len(p.Steps) != 0 {
		t.Fatalf("Load of a missing file = %+v, %v; want empty progress", p, err)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := s.Update(func(p *labs.Progress) error {
		p.Current = "chroot/rootfs"
		p.MarkPassed("chroot/rootfs", now)
		p.MarkSolved("chroot/jail", now)
		p.RevealHint("chroot/jail", 3)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetAnswer("chroot/quiz", "b"); err != nil {
		t.Fatal(err)
	}
	p, err = s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if p.Current != "chroot/rootfs" || p.Step("chroot/rootfs").Status != labs.Passed ||
		p.Step("chroot/jail").Status != labs.Solved || p.Step("chroot/jail").Hints != 1 ||
		!p.Step("chroot/rootfs").At.Equal(now) {
		t.Errorf("reloaded progress = %+v", p)
	}
	if a, ok := s.Answer("chroot/quiz"); !ok || a != "b" {
		t.Errorf("Answer = %q, %v; want b, true", a, ok)
	}
	if err := s.ClearAnswer("chroot/quiz"); err != nil {
		t.Fatal(err)
	}
	if err := s.ClearAnswer("chroot/quiz"); err != nil { // idempotent
		t.Fatal(err)
	}
	if _, ok := s.Answer("chroot/quiz"); ok {
		t.Error("answer still there after ClearAnswer")
	}
	st, err := os.Stat(s.Path())
	if err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("progress file mode = %v, %v; want 0644", st.Mode(), err)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(s.Dir, ".progress-*")); len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

func TestStatusRules(t *testing.T) {
	var p labs.Progress
	now := time.Now()
	p.MarkSolved("a/x", now)
	p.MarkPassed("a/x", now)
	if got := p.Step("a/x").Status; got != labs.Solved {
		t.Errorf("solved then checked = %q, want solved (checking the reference solution is not passing)", got)
	}
	p.MarkPassed("a/y", now)
	p.MarkSolved("a/y", now)
	if got := p.Step("a/y").Status; got != labs.Passed {
		t.Errorf("passed then solved = %q, want passed", got)
	}
	for range 5 {
		p.RevealHint("a/y", 2)
	}
	if got := p.Step("a/y").Hints; got != 2 {
		t.Errorf("hints = %d, want at most 2", got)
	}
	p.Current = "a/y"
	p.MarkPassed("b/z", now)
	p.ForgetLab("a")
	if p.Current != "" || p.Step("a/x").Status != labs.Todo || p.Step("b/z").Status != labs.Passed {
		t.Errorf("ForgetLab(a) = %+v", p)
	}
}

func TestUnknownStepsAreKept(t *testing.T) {
	s := labs.NewStore(t.TempDir())
	old := `{"version": 1, "current": "old/renamed", "future_field": true,
	  "steps": {"old/renamed": {"status": "passed", "hints": 2}, "x/y": null, "c/d": {"status": "weird-new-status"}}}`
	if err := os.WriteFile(s.Path(), []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(func(p *labs.Progress) error { p.MarkPassed("chroot/rootfs", time.Now()); return nil }); err != nil {
		t.Fatalf("Update over old progress: %v", err)
	}
	p, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if p.Step("old/renamed").Hints != 2 || p.Step("c/d").Status != "weird-new-status" || p.Current != "old/renamed" {
		t.Errorf("unknown entries not kept: %+v", p.Steps)
	}
}

func TestCorruptProgress(t *testing.T) {
	for name, garbage := range map[string]string{
		"not json":     "hello",
		"truncated":    `{"version": 1, "steps": {"a/b": {"sta`,
		"wrong types":  `{"version": "one"}`,
		"no version":   `{"steps": {}}`,
		"binary zeros": "\x00\x00\x00",
	} {
		t.Run(name, func(t *testing.T) {
			s := labs.NewStore(t.TempDir())
			if err := os.WriteFile(s.Path(), []byte(garbage), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := s.Load()
			var corrupt *labs.CorruptError
			if !errors.As(err, &corrupt) || !strings.Contains(err.Error(), "lab reset --all") {
				t.Fatalf("Load = %v, want a CorruptError that says what to do", err)
			}
			if err := s.Update(func(*labs.Progress) error { return nil }); !errors.As(err, &corrupt) {
				t.Fatalf("Update = %v, want CorruptError", err)
			}
			if err := s.SetAnswer("a/b", "c"); err == nil {
				t.Fatal("SetAnswer over garbage succeeded")
			}
			if b, _ := os.ReadFile(s.Path()); string(b) != garbage {
				t.Fatalf("the garbage file was overwritten: %q", b)
			}
			kept, err := s.Clear()
			if err != nil || kept != s.Path()+".corrupt" {
				t.Fatalf("Clear = %q, %v", kept, err)
			}
			if b, _ := os.ReadFile(kept); string(b) != garbage {
				t.Errorf("kept copy = %q", b)
			}
			if p, err := s.Load(); err != nil || len(p.Steps) != 0 {
				t.Errorf("Load after Clear = %+v, %v", p, err)
			}
		})
	}
}

// TestConcurrentUpdates: writers in parallel never lose each other's
// change (flock), and readers never see a half-written file (rename).
func TestConcurrentUpdates(t *testing.T) {
	s := labs.NewStore(t.TempDir())
	const writers, each = 4, 10
	var wg sync.WaitGroup
	stop := make(chan struct{})
	readErr := make(chan error, 1)
	go func() {
		for {
			select {
			case <-stop:
				close(readErr)
				return
			default:
			}
			if _, err := s.Load(); err != nil {
				readErr <- err
				close(readErr)
				return
			}
		}
	}()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				if err := s.Update(func(p *labs.Progress) error {
					p.RevealHint("count/all", 1<<30)
					p.RevealHint("count/w"+string(rune('a'+w)), 1<<30)
					return nil
				}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	if err := <-readErr; err != nil {
		t.Fatalf("a reader saw a broken file: %v", err)
	}
	p, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Step("count/all").Hints; got != writers*each {
		t.Errorf("count = %d after %d locked increments: updates were lost", got, writers*each)
	}
}
