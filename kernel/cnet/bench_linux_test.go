package cnet

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"testing"
	"time"

	"github.com/lab-edu/lab/kernel/netns"
)

// BenchmarkAttachDetach measures what `--net bridge` adds to a container's
// life: Attach while the container is set up, Detach after it is gone. The
// namespace itself is made and dropped with the timer stopped (the runtime
// pays for it in clone(2) whatever the network mode), and it dies before
// Detach, as in `lab run`, so the kernel deletes the veth pair itself.
// Containers follow each other at once, so each Attach runs while the
// kernel still tears down the previous namespace, as in a loop of
// `lab run --rm`. It reports attach-ms and detach-ms per container too.
//
//	sudo go test -run '^$' -bench AttachDetach ./kernel/cnet
func BenchmarkAttachDetach(b *testing.B) { benchAttachDetach(b, false) }

// BenchmarkAttachDetachSettled is the same with the previous container's
// veth pair gone before the next Attach: the cost on a quiet host.
func BenchmarkAttachDetachSettled(b *testing.B) { benchAttachDetach(b, true) }

func benchAttachDetach(b *testing.B, settle bool) {
	needHost(b)
	// The state dir on the disk of /var/lib, where lab keeps it
	// (LAB_ROOT=/var/lib/lab): the lease is a file there.
	root, err := os.MkdirTemp("/var/lib", "lab-cnet-bench-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(root) })
	ctx := context.Background()
	// The first container of a boot creates the bridge; not measured.
	warm := newContainer(b)
	attach(b, root, warm)

	var attachTime, detachTime time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		ns, err := netns.NewAnonymous()
		if err != nil {
			b.Fatal(err)
		}
		id := newID(b)
		b.StartTimer()
		t0 := time.Now()
		ep, err := Attach(ctx, root, id, int(ns.Fd()), nil)
		if err != nil {
			b.Fatal(err)
		}
		attachTime += time.Since(t0)
		b.StopTimer()
		ns.Close()
		b.StartTimer()
		t1 := time.Now()
		if err := Detach(ctx, root, id); err != nil {
			b.Fatal(err)
		}
		detachTime += time.Since(t1)
		if settle {
			b.StopTimer()
			waitGone(b, ep.HostVeth)
			b.StartTimer()
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(attachTime.Microseconds())/1000/float64(b.N), "attach-ms")
	b.ReportMetric(float64(detachTime.Microseconds())/1000/float64(b.N), "detach-ms")
}

// waitGone waits until the host has no link named name any more.
func waitGone(b *testing.B, name string) {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if _, err := os.Stat("/sys/class/net/" + name); errors.Is(err, fs.ErrNotExist) {
			return
		}
	}
	b.Fatalf("%s still there after 5 s", name)
}
