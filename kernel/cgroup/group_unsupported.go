//go:build !linux

package cgroup

import (
	"errors"
	"time"
)

// Detect reports that control groups are Linux only.
func Detect() (Hierarchy, error) { return Hierarchy{}, errors.ErrUnsupported }

// IsCgroup2 is always false off Linux.
func IsCgroup2(string) bool { return false }

func (h Hierarchy) Create(string, Resources, ...string) error    { return errors.ErrUnsupported }
func (h Hierarchy) Update(string, Resources) error               { return errors.ErrUnsupported }
func (h Hierarchy) Add(string, int, ...string) error             { return errors.ErrUnsupported }
func (h Hierarchy) Join(string, ...string) error                 { return errors.ErrUnsupported }
func (h Hierarchy) Freeze(string) error                          { return errors.ErrUnsupported }
func (h Hierarchy) Thaw(string) error                            { return errors.ErrUnsupported }
func (h Hierarchy) Delete(string) error                          { return errors.ErrUnsupported }
func (h Hierarchy) Evacuate(string, func(int) bool) error        { return errors.ErrUnsupported }
func (h Hierarchy) KillAll(string, string, func(int) bool) error { return errors.ErrUnsupported }

func AllocMemory(int64, func(int64)) ([]byte, error) { return nil, errors.ErrUnsupported }
func BurnCPU(time.Duration) (time.Duration, error)   { return 0, errors.ErrUnsupported }
func ForkBomb(int) (ForkResult, error)               { return ForkResult{}, errors.ErrUnsupported }
