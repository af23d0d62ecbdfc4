package ns

// InitDeath is what the kernel did when PID 1 of a PID namespace died
// while another process still ran in it.
type InitDeath struct {
	InitPID, OtherPID int    // host PIDs of the namespace's PID 1 and PID 2
	OtherKilled       bool   // PID 2 ended too, without anyone signalling it
	OtherSignal       string // the signal that ended it ("killed" for SIGKILL)
	ForkErr           string // what creating a third process in the namespace returned
	ForkENOMEM        bool   // ... and whether that was ENOMEM
}
