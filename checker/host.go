package checker

import (
	"io/fs"
	"os"
)

// LiveHost is the real machine.
type LiveHost struct {
	Work    string                             // see Host.Workspace
	Answers func(stepID string) (string, bool) // recorded quiz answers; nil means none
}

// FS returns the machine's root filesystem. os.DirFS also implements
// fs.ReadLinkFS, so probes can read /proc/PID/root and /proc/PID/ns/* links.
func (h LiveHost) FS() fs.FS { return os.DirFS("/") }

// Workspace returns the directory holding each lab's workspace.
func (h LiveHost) Workspace() string { return h.Work }

// Answer returns the recorded quiz answer for stepID.
func (h LiveHost) Answer(stepID string) (string, bool) {
	if h.Answers == nil {
		return "", false
	}
	return h.Answers(stepID)
}
