package cnet

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
)

// Leases: each attached container has a file in <Root>/network/, named
// after the address it holds and its id, "10.88.0.2_<id>.json", holding
// its Endpoint. The names alone tell which addresses are taken (one
// getdents(2), no file to read), and O_EXCL makes the creation of a lease
// an atomic claim. The file is written before anything is created in the
// kernel and removed after everything is deleted, so after a crash at any
// point the lease still names what may be left, and Prune finds it.

// leaseDir is where the leases of a state dir live.
func leaseDir(root string) string { return filepath.Join(root, "network") }

// leaseFile is the name of ep's lease.
func leaseFile(ep Endpoint) string { return ep.Addr.Addr().String() + "_" + ep.ID + ".json" }

// leaseName is a lease as its file name tells it.
type leaseName struct {
	addr netip.Addr
	id   string
	file string // the full path
}

// parseLeaseFile reads a lease file name; other files give ok false.
func parseLeaseFile(name string) (addr netip.Addr, id string, ok bool) {
	base, ok := strings.CutSuffix(name, ".json")
	if !ok {
		return netip.Addr{}, "", false
	}
	a, id, ok := strings.Cut(base, "_")
	if !ok || checkID(id) != nil {
		return netip.Addr{}, "", false
	}
	addr, err := netip.ParseAddr(a)
	if err != nil {
		return netip.Addr{}, "", false
	}
	return addr, id, true
}

// checkID accepts container ids as kernel/container makes them: hex, at
// least 12 digits (the short id the rules carry), at most 64.
func checkID(id string) error {
	if len(id) < 12 || len(id) > 64 || strings.Trim(id, "0123456789abcdef") != "" {
		return fmt.Errorf("cnet: invalid container id %q: need 12 to 64 lowercase hex digits", id)
	}
	return nil
}

// listLeases returns the leases of root from the file names alone.
func listLeases(root string) ([]leaseName, error) {
	entries, err := os.ReadDir(leaseDir(root))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read leases: %w", err)
	}
	out := make([]leaseName, 0, len(entries))
	for _, e := range entries {
		if addr, id, ok := parseLeaseFile(e.Name()); ok {
			out = append(out, leaseName{addr: addr, id: id, file: filepath.Join(leaseDir(root), e.Name())})
		}
	}
	return out, nil
}

// readLease returns the lease of id, and false when it has none.
func readLease(root, id string) (Endpoint, bool, error) {
	names, err := listLeases(root)
	if err != nil {
		return Endpoint{}, false, err
	}
	for _, n := range names {
		if n.id == id {
			ep, err := readLeaseFile(n.file)
			return ep, err == nil, err
		}
	}
	return Endpoint{}, false, nil
}

func readLeaseFile(path string) (Endpoint, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Endpoint{}, fmt.Errorf("read lease: %w", err)
	}
	var ep Endpoint
	if err := json.Unmarshal(b, &ep); err != nil {
		// A lab killed between the open(2) that claimed the address and
		// the write(2) of the Endpoint leaves an empty (or torn) lease.
		// Nothing was created in the kernel yet (the lease comes first),
		// and the name alone says what the lease holds: rebuild it, so
		// that Detach and Prune can free it instead of failing on it.
		if addr, id, ok := parseLeaseFile(filepath.Base(path)); ok {
			return Endpoint{ID: id, HostVeth: HostVethName(id), Gateway: Gateway,
				Addr: netip.PrefixFrom(addr, Subnet.Bits())}, nil
		}
		return Endpoint{}, fmt.Errorf("read lease %s: %w", path, err)
	}
	return ep, nil
}

// readLeases returns every lease of root.
func readLeases(root string) ([]Endpoint, error) {
	names, err := listLeases(root)
	if err != nil {
		return nil, err
	}
	out := make([]Endpoint, 0, len(names))
	for _, n := range names {
		ep, err := readLeaseFile(n.file)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, ep)
	}
	return out, nil
}

// writeLease records ep in one write(2) to a file created with O_EXCL: if
// the address is already leased, the creation fails (EEXIST) instead of
// overwriting the other lease.
func writeLease(root string, ep Endpoint) error {
	b, err := json.MarshalIndent(ep, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(leaseDir(root), leaseFile(ep))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(leaseDir(root), 0o700); err != nil {
			return fmt.Errorf("write lease: %w", err)
		}
		f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	}
	if err != nil {
		return fmt.Errorf("write lease: %w", err)
	}
	_, err = f.Write(append(b, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("write lease: %w", err)
	}
	return nil
}

// removeLease frees the address of ep; a missing lease is not an error.
func removeLease(root string, ep Endpoint) error {
	path := filepath.Join(leaseDir(root), leaseFile(ep))
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("free address: %w", err)
	}
	return nil
}

// firstFree returns the lowest address of Subnet above the gateway that is
// not in used: 10.88.0.2, then .3, and so on up to 10.88.255.254 (the last
// address is the subnet's broadcast).
func firstFree(used map[netip.Addr]bool) (netip.Addr, error) {
	last := lastAddr(Subnet)
	for a := Gateway.Next(); a.IsValid() && a.Less(last); a = a.Next() {
		if !used[a] {
			return a, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("cnet: no free address left in %s", Subnet)
}

// lastAddr is the broadcast address of an IPv4 prefix.
func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	for i := 3; i >= 0; i-- {
		a[i] |= byte(host >> (8 * (3 - i)))
	}
	return netip.AddrFrom4(a)
}

// vethAlias is the label Attach puts on a host veth end (IFLA_IFALIAS):
// which address it carries, for which container, of which state dir.
// Other state dirs on the same host read it so they never hand out an
// address a live container holds, and Prune reads it to find veths a crash
// left behind.
func vethAlias(ep Endpoint, root string) string {
	s := fmt.Sprintf("%s %s %s %s", RuleComment, ep.Addr.Addr(), ep.ID, root)
	if len(s) > 255 { // IFALIASZ is 256 with the final NUL
		s = fmt.Sprintf("%s %s %s ?", RuleComment, ep.Addr.Addr(), ep.ID)
	}
	return s
}

// parseAlias reads back vethAlias.
func parseAlias(s string) (addr netip.Addr, id, root string, ok bool) {
	f := strings.SplitN(s, " ", 4)
	if len(f) != 4 || f[0] != RuleComment {
		return netip.Addr{}, "", "", false
	}
	addr, err := netip.ParseAddr(f[1])
	if err != nil {
		return netip.Addr{}, "", "", false
	}
	return addr, f[2], f[3], true
}
