package procfs

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"
)

// TCPListen is the state number of a listening socket in /proc/net/tcp
// (TCP_LISTEN in the kernel's enum).
const TCPListen = 0x0A

// TCPSocket is one line of /proc/PID/net/tcp or tcp6: the sockets of the
// network namespace process PID is in.
type TCPSocket struct {
	LocalAddr string // hex, as the kernel prints it (byte order of the host)
	LocalPort int
	State     int
	UID       int
	Inode     uint64
}

// ParseNetTCP reads /proc/net/tcp or /proc/net/tcp6 (a header line, then
// "sl local_address rem_address st ... uid timeout inode").
func ParseNetTCP(r io.Reader) ([]TCPSocket, error) {
	var out []TCPSocket
	sc := bufio.NewScanner(r)
	first := true
	for sc.Scan() {
		if first {
			first = false
			continue
		}
		f := strings.Fields(sc.Text())
		if len(f) < 10 {
			continue
		}
		addr, port, ok := strings.Cut(f[1], ":")
		if !ok {
			return nil, fmt.Errorf("parse net/tcp address %q", f[1])
		}
		p, err := strconv.ParseUint(port, 16, 16)
		if err != nil {
			return nil, fmt.Errorf("parse net/tcp port %q: %w", port, err)
		}
		st, err := strconv.ParseUint(f[3], 16, 8)
		if err != nil {
			return nil, fmt.Errorf("parse net/tcp state %q: %w", f[3], err)
		}
		uid, _ := strconv.Atoi(f[7])
		inode, _ := strconv.ParseUint(f[9], 10, 64)
		out = append(out, TCPSocket{LocalAddr: addr, LocalPort: int(p), State: int(st), UID: uid, Inode: inode})
	}
	return out, sc.Err()
}

// ReadNetTCP reads the IPv4 and IPv6 TCP sockets of the network namespace
// of process pid.
func ReadNetTCP(fsys fs.FS, pid int) ([]TCPSocket, error) {
	var all []TCPSocket
	for _, name := range []string{"tcp", "tcp6"} {
		f, err := fsys.Open(fmt.Sprintf("proc/%d/net/%s", pid, name))
		if err != nil {
			return all, err
		}
		socks, err := ParseNetTCP(f)
		f.Close()
		if err != nil {
			return all, err
		}
		all = append(all, socks...)
	}
	return all, nil
}

// Listening reports whether a socket listens on TCP port in the network
// namespace of process pid. A process that is gone listens on nothing.
func Listening(fsys fs.FS, pid, port int) bool {
	socks, _ := ReadNetTCP(fsys, pid)
	for _, s := range socks {
		if s.LocalPort == port && s.State == TCPListen {
			return true
		}
	}
	return false
}
