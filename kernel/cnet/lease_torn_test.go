package cnet

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

// A lab killed between the open(2) of a new lease and its write(2) leaves
// an empty file: reading it must give the endpoint its name describes, not
// an error that would stop Detach and Prune from freeing it.
func TestEmptyLeaseReadsFromItsName(t *testing.T) {
	root := t.TempDir()
	id := "3ca609b27d17223a90a3f3372c6abe4b87f7b1f1a8e14b5f23154077a3f35340"
	if err := os.MkdirAll(leaseDir(root), 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(leaseDir(root), "10.88.0.4_"+id+".json")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	ep, ok, err := readLease(root, id)
	if err != nil || !ok {
		t.Fatalf("readLease: %v, %v", ok, err)
	}
	want := Endpoint{ID: id, HostVeth: "labv3ca609b27d1", Gateway: Gateway, Addr: netip.MustParsePrefix("10.88.0.4/16")}
	if ep.ID != want.ID || ep.HostVeth != want.HostVeth || ep.Gateway != want.Gateway || ep.Addr != want.Addr || len(ep.Ports) != 0 {
		t.Fatalf("got %+v, want %+v", ep, want)
	}
	if all, err := readLeases(root); err != nil || len(all) != 1 {
		t.Fatalf("readLeases: %v, %v", all, err)
	}
}
