//go:build !linux

package image

import "errors"

var errNotEmpty = errors.New("directory not empty")

func (s *Store) lock() (func(), error) { return func() {}, nil }

func mountedLowerDirs() map[string]bool { return map[string]bool{} }
