//go:build !linux

package cnet

import (
	"context"
	"errors"
)

// Container networking needs Linux network namespaces, veths and netfilter.

func Attach(context.Context, string, string, int, []Port) (Endpoint, error) {
	return Endpoint{}, errors.ErrUnsupported
}
func SetupLoopback(int) error                                   { return errors.ErrUnsupported }
func CheckPorts(context.Context, string, []Port) error          { return errors.ErrUnsupported }
func Detach(context.Context, string, string) error              { return errors.ErrUnsupported }
func Lookup(string, string) (Endpoint, bool, error)             { return Endpoint{}, false, errors.ErrUnsupported }
func Prune(context.Context, string, func(id string) bool) error { return errors.ErrUnsupported }
func Teardown(context.Context) (bool, error)                    { return false, errors.ErrUnsupported }
func WriteEtc(string, string, *Endpoint, string) error          { return errors.ErrUnsupported }
