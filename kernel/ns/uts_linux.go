package ns

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// ErrHostNamespace is returned by the setters below instead of changing
// the host's own name.
var ErrHostNamespace = errors.New("ns: refusing to change the host's UTS namespace: unshare --uts first")

// SetHostname sets the hostname of the calling thread's UTS namespace
// (sethostname(2), what hostname(1) does).
//
// Preconditions: the caller is in a UTS namespace of its own (it was
// started with Command(Spec{New: []Kind{UTS}}), or it locked its thread
// and called Unshare(UTS)). To protect the lab machine, it refuses to
// rename the host.
func SetHostname(name string) error {
	if err := notHost(); err != nil {
		return err
	}
	if err := unix.Sethostname([]byte(name)); err != nil {
		return fmt.Errorf("set hostname %q: %w", name, err)
	}
	return nil
}

// SetDomainname sets the NIS domain name of the calling thread's UTS
// namespace (setdomainname(2), what domainname(1) does), with the same
// precondition and protection as SetHostname.
func SetDomainname(name string) error {
	if err := notHost(); err != nil {
		return err
	}
	if err := unix.Setdomainname([]byte(name)); err != nil {
		return fmt.Errorf("set domain name %q: %w", name, err)
	}
	return nil
}

func notHost() error {
	host, err := InHost(UTS)
	if err != nil {
		return fmt.Errorf("read UTS namespace: %w", err)
	}
	if host {
		return ErrHostNamespace
	}
	return nil
}

// UTSNames returns the hostname and domain name that process pid sees:
// it joins pid's UTS namespace on a throwaway thread and calls uname(2).
//
// Equivalent to: nsenter --target PID --uts hostname; domainname.
func UTSNames(pid int) (Names, error) {
	var n Names
	err := Do(pid, []Kind{UTS}, func() error {
		var u unix.Utsname
		if err := unix.Uname(&u); err != nil {
			return fmt.Errorf("uname: %w", err)
		}
		n.Hostname, n.Domainname = unix.ByteSliceToString(u.Nodename[:]), unix.ByteSliceToString(u.Domainname[:])
		return nil
	})
	return n, err
}
