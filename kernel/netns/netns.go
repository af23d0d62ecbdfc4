package netns

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Dir is where `ip netns` keeps the bind mounts of named namespaces.
const Dir = "/run/netns"

// Path returns the bind-mount file of the named namespace: /run/netns/NAME.
func Path(name string) string { return filepath.Join(Dir, name) }

// CheckName rejects names that `ip netns` would reject or that would
// escape Dir: empty, ".", "..", or containing "/".
func CheckName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsRune(name, '/') || len(name) > 255 {
		return fmt.Errorf("netns: invalid namespace name %q", name)
	}
	return nil
}
