package ctrinit

import (
	"fmt"
	"os"
	"time"
)

// TraceEnv names the environment variable that turns the phase trace on
// (LAB_TRACE=1): each phase of a container's start-up and end is written
// to stderr as "lab-trace: MICROSECONDS WHO PHASE", with the wall clock
// in microseconds, so the lines of the parent and of the init merge into
// one timeline. bench/phases.sh turns many runs into a table.
const TraceEnv = "LAB_TRACE"

// Trace writes one phase line when on.
func Trace(on bool, who, phase string) {
	if on {
		TraceAt(time.Now(), who, phase)
	}
}

// TraceAt writes one phase line for a moment in the past.
func TraceAt(t time.Time, who, phase string) {
	fmt.Fprintf(os.Stderr, "lab-trace: %d %s %s\n", t.UnixMicro(), who, phase)
}
