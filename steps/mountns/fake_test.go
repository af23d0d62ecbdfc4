package mountlab

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/checker/checkertest"
)

const work = "/var/lib/lab/work/mount"

var otherNS = map[string]string{"mnt": "mnt:[4026532777]"}

func line(id int, dev, point, fstype, source, opt string) string {
	return strings.Join([]string{itoa(id), "27", dev, "/", point, "rw", opt, "-", fstype, source, "rw"}, " ") + "\n"
}

func itoa(n int) string { return strconv.Itoa(n) }

func withSelf(h *checkertest.FakeHost, extra string) {
	h.AddProcess(checkertest.Proc{PID: 1000, Comm: "lab", MountInfo: checkertest.HostMountInfo + extra})
}

func TestHiddenFake(t *testing.T) {
	tmpfsHidden := line(101, "0:70", work+"/hidden", "tmpfs", "lab-hidden", "")
	tests := []struct {
		name      string
		host, ns  string
		want      string
		wantState checker.Status
	}{
		{"nothing", "", "", "found none", checker.Fail},
		{"tmpfs on the host", tmpfsHidden, "", "is mounted at " + work + "/hidden in the host's mount namespace", checker.Fail},
		{"tmpfs in a namespace", "", checkertest.HostMountInfo + tmpfsHidden, "", checker.Pass},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := checkertest.New()
			withSelf(h, tt.host)
			if tt.ns != "" {
				h.AddProcess(checkertest.Proc{PID: 300, Comm: "sleep", NS: otherNS, MountInfo: tt.ns})
			}
			r := checkHidden(context.Background(), h)
			if r.Status != tt.wantState || !strings.Contains(r.Reason, tt.want) {
				t.Fatalf("checkHidden = %s %q, want %s with %q", r.Status, r.Reason, tt.wantState, tt.want)
			}
		})
	}
}

func TestExperimentFake(t *testing.T) {
	nsShared := line(110, "0:80", work+"/shared/inner", "tmpfs", "lab-shared", "shared:9")
	nsPrivate := line(111, "0:81", work+"/private/inner", "tmpfs", "lab-private", "")
	tests := []struct {
		name, host string
		want       string
		pass       bool
	}{
		{"propagated", line(120, "0:80", work+"/shared/inner", "tmpfs", "lab-shared", "shared:9"), "", true},
		{"did not propagate", "", "did not propagate", false},
		{"mounted twice", line(120, "0:99", work+"/shared/inner", "tmpfs", "c", ""), "mounted twice, not propagated", false},
		{"private one on the host", line(120, "0:80", work+"/shared/inner", "tmpfs", "lab-shared", "shared:9") +
			line(121, "0:98", work+"/private/inner", "tmpfs", "b", ""), "mounted on the host itself", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := checkertest.New()
			withSelf(h, tt.host)
			h.AddProcess(checkertest.Proc{PID: 301, Comm: "sleep", NS: otherNS, MountInfo: checkertest.HostMountInfo + nsShared + nsPrivate})
			r := checkExperiment(context.Background(), h)
			if tt.pass {
				if r.Status != checker.Pass {
					t.Fatalf("%s %q, want pass", r.Status, r.Reason)
				}
				return
			}
			if r.Status != checker.Fail || !strings.Contains(r.Reason, tt.want) {
				t.Fatalf("%s %q, want fail with %q", r.Status, r.Reason, tt.want)
			}
		})
	}
}

func TestPropagationPartialCredit(t *testing.T) {
	h := checkertest.New()
	// shared is right, private is not a mount point, no experiment yet.
	withSelf(h, line(105, "254:0", work+"/shared", "ext4", "/dev/vda", "shared:7"))
	r := Propagation.Check(context.Background(), h)
	if r.Status != checker.Fail || r.Score <= 0 || r.Score >= 1 {
		t.Fatalf("Propagation = %s score %v, want fail with partial credit", r.Status, r.Score)
	}
}
