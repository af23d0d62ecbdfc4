//go:build !linux

package cgroupslab

import "syscall"

func probeAttr() *syscall.SysProcAttr    { return &syscall.SysProcAttr{} }
func workloadAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setsid: true} }
