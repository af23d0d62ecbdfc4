package container

import "github.com/lab-edu/lab/kernel/cnet"

// Port is a published port (-p HOST:CTR), kernel/cnet's.
type Port = cnet.Port
