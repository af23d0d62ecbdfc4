//go:build !linux

package minidockerlab

import "errors"

func hostVethOf(pid int) (string, error) { return "", errors.ErrUnsupported }
