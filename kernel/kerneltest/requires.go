// Package kerneltest holds helpers for tests that need a real kernel and
// root. Import it only from _test.go files.
package kerneltest

import (
	"debug/elf"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Need is one precondition of a test: ok, or why not.
type Need func() (ok bool, why string)

// Root: the test needs uid 0.
var Root Need = func() (bool, string) {
	return os.Geteuid() == 0, "needs root: run `sudo make test` (or sudo go test)"
}

// Module: the kernel must have this module or built-in feature. A module
// that is available but not loaded yet (Debian builds overlay as a module,
// loaded on first use) is loaded with modprobe, as the first mount would.
func Module(name string) Need {
	return func() (bool, string) {
		loaded := func() bool { _, err := os.Stat("/sys/module/" + name); return err == nil }
		if !loaded() {
			_ = exec.Command("/sbin/modprobe", "-q", name).Run()
		}
		return loaded(), "needs kernel module " + name + " (modprobe " + name + ")"
	}
}

// Filesystem: the kernel must know this filesystem type (/proc/filesystems).
func Filesystem(fstype string) Need {
	return func() (bool, string) {
		b, err := os.ReadFile("/proc/filesystems")
		if err != nil {
			return false, "needs /proc/filesystems"
		}
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) > 0 && f[len(f)-1] == fstype {
				return true, ""
			}
		}
		return false, "needs filesystem " + fstype
	}
}

// Tool: a program the test runs must be installed (by `make test-deps`).
func Tool(name string) Need {
	return func() (bool, string) {
		_, err := exec.LookPath(name)
		return err == nil, "needs " + name + " on PATH: run `sudo make test-deps`"
	}
}

// Requires skips the test when a need is missing. Under `make test`
// (LAB_REQUIRE_ALL=1, as in CI, where we are root on a real kernel) a
// missing need fails the test instead, so nothing is skipped silently.
func Requires(t testing.TB, needs ...Need) {
	t.Helper()
	for _, need := range needs {
		if ok, why := need(); !ok {
			if os.Getenv("LAB_REQUIRE_ALL") == "1" {
				t.Fatal(why)
			}
			t.Skip(why)
		}
	}
}

// StaticBinary: the test binary must be statically linked (no ELF
// interpreter), because the test runs it inside a container root that has
// no dynamic loader. `make test` builds with CGO_ENABLED=0, which gives that.
var StaticBinary Need = func() (bool, string) {
	why := "needs a statically linked test binary: run with CGO_ENABLED=0 (make test does)"
	exe, err := os.Executable()
	if err != nil {
		return false, why
	}
	f, err := elf.Open(exe)
	if err != nil {
		return false, why
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return false, why
		}
	}
	return true, ""
}
