package cli

import (
	"errors"
	"fmt"
)

// Exit codes of lab. The mini-Docker commands use docker's (125, 126, 127).
const (
	ExitOK       = 0 // success, or every check passed
	ExitFailed   = 1 // checks ran and something is not there yet
	ExitUsage    = 2 // bad flags, unknown lab or step, bad value
	ExitEnv      = 3 // environment problem: not root, missing kernel feature
	ExitInternal = 4 // our bug
)

// ExitError carries an exit code through cobra. Its message is printed as
// is, on one line; an empty message prints nothing.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return ""
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// FlagError is a usage error: exit 2.
func FlagError(format string, args ...any) error {
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf(format, args...)}
}

// EnvError is an environment problem: exit 3.
func EnvError(format string, args ...any) error {
	return &ExitError{Code: ExitEnv, Err: fmt.Errorf(format, args...)}
}

// Silent ends the command with code and prints nothing more (the command
// already printed its report).
func Silent(code int) error { return &ExitError{Code: code} }

// exitCode maps an error to the process exit code.
func exitCode(err error) int {
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return ExitInternal
}
