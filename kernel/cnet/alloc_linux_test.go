package cnet

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/lab-edu/lab/kernel/netdev"
	"github.com/lab-edu/lab/kernel/netns"
	"github.com/lab-edu/lab/kernel/reexec"
)

func init() { reexec.Register("cnet-attach", attachChild) }

// attachChild is a separate process that attaches N containers of its own
// to the state dir in os.Args[1] and prints "ID ADDRESS" for each. Its
// namespaces die with it; the leases stay until the parent prunes them.
func attachChild() {
	root := os.Args[1]
	n, _ := strconv.Atoi(os.Args[2])
	for range n {
		ns, err := netns.NewAnonymous()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		id := newID(nil)
		ep, err := Attach(context.Background(), root, id, int(ns.Fd()), nil)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(ep.ID, ep.Addr.Addr())
		ns.Close()
	}
	os.Exit(0)
}

// Goroutines of this process and three other processes attach at the same
// time to one state dir: every container gets its own address, and the
// leases agree with what each was told.
func TestAllocatorConcurrent(t *testing.T) {
	needHost(t)
	root := t.TempDir()
	const goroutines, processes, perProcess = 8, 3, 6

	given := map[string]netip.Addr{} // id -> address, as Attach returned them
	var mu sync.Mutex
	record := func(id string, a netip.Addr) {
		mu.Lock()
		defer mu.Unlock()
		given[id] = a
	}

	var wg sync.WaitGroup
	var outs [processes]bytes.Buffer
	errs := make(chan error, goroutines+processes)
	for i := range processes {
		cmd := reexec.Command("cnet-attach", root, strconv.Itoa(perProcess))
		cmd.Stdout, cmd.Stderr = &outs[i], os.Stderr
		wg.Go(func() { errs <- cmd.Run() })
	}
	mine := make([]string, goroutines)
	for i := range goroutines {
		ns := newContainer(t)
		wg.Go(func() {
			id := newID(t)
			ep, err := Attach(context.Background(), root, id, int(ns.Fd()), nil)
			if err == nil {
				mine[i] = id
				record(id, ep.Addr.Addr())
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, id := range mine {
			if err := Detach(context.Background(), root, id); err != nil {
				t.Error(err)
			}
		}
	})
	for _, out := range outs {
		sc := bufio.NewScanner(&out)
		for sc.Scan() {
			id, a, _ := strings.Cut(sc.Text(), " ")
			record(id, netip.MustParseAddr(a))
		}
	}
	if len(given) != goroutines+processes*perProcess {
		t.Fatalf("%d attachments reported, want %d", len(given), goroutines+processes*perProcess)
	}
	owner := map[netip.Addr]string{}
	for id, a := range given {
		if other, dup := owner[a]; dup {
			t.Fatalf("%s given to both %s and %s", a, shortID(other), shortID(id))
		}
		owner[a] = id
	}
	leases, err := listLeases(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(leases) != len(given) {
		t.Fatalf("%d leases, want %d", len(leases), len(given))
	}
	for _, l := range leases {
		if given[l.id] != l.addr {
			t.Errorf("lease of %s says %s, Attach said %s", shortID(l.id), l.addr, given[l.id])
		}
	}

	// The other processes are gone: Prune frees their addresses.
	alive := func(id string) bool { return slices.Contains(mine, id) }
	if err := Prune(context.Background(), root, alive); err != nil {
		t.Fatal(err)
	}
	if leases, _ := listLeases(root); len(leases) != goroutines {
		t.Fatalf("%d leases after prune, want %d", len(leases), goroutines)
	}
}

// Detach frees the address: the next container can have it once the old
// veth (which still claims it while the kernel tears the namespace down)
// is gone.
func TestDetachFreesAddress(t *testing.T) {
	needHost(t)
	root := t.TempDir()
	ctx := context.Background()
	first, err := netns.NewAnonymous()
	if err != nil {
		t.Fatal(err)
	}
	id := newID(t)
	ep, err := Attach(ctx, root, id, int(first.Fd()), nil)
	if err != nil {
		first.Close()
		t.Fatal(err)
	}
	testVeths.Lock()
	testVeths.names = append(testVeths.names, ep.HostVeth)
	testVeths.Unlock()
	first.Close() // the container dies
	if err := Detach(ctx, root, id); err != nil {
		t.Fatal(err)
	}
	if err := Detach(ctx, root, id); err != nil {
		t.Fatalf("second Detach: %v", err)
	}
	if _, ok, _ := Lookup(root, id); ok {
		t.Fatal("lease still there after Detach")
	}
	waitVethsGone(t)
	host, err := netdev.OpenHost()
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	links, err := host.LinkSummaries()
	if err != nil {
		t.Fatal(err)
	}
	leases, _ := listLeases(root)
	if used := usedAddrs(leases, links); used[ep.Addr.Addr()] {
		t.Fatalf("%s still used after Detach", ep.Addr)
	}
	want, _ := firstFree(usedAddrs(leases, links))
	next := attach(t, root, newContainer(t))
	if next.Addr.Addr() != want {
		t.Fatalf("next container got %s, want the lowest free %s", next.Addr, want)
	}
}
