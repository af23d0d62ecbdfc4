package ctrinit

// Docker's exit codes for a container that never ran its command.
const (
	ExitEngine    = 125 // the runtime failed: bad option, unknown image, name in use...
	ExitCannotRun = 126 // the command exists but cannot be executed
	ExitNotFound  = 127 // the command does not exist in the container
)
