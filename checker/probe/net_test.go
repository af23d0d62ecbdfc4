package probe

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
)

func TestWhy(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{fmt.Errorf("dial: %w", syscall.ENETUNREACH), "no route"},
		{fmt.Errorf("dial: %w", syscall.ECONNREFUSED), "nothing listens"},
		{fmt.Errorf("dial: %w", syscall.EHOSTUNREACH), "ARP got no reply"},
		{fmt.Errorf("dial: %w", os.ErrDeadlineExceeded), "no answer within"},
		{fmt.Errorf("dial: %w", context.DeadlineExceeded), "no answer within"},
	}
	for _, tt := range tests {
		if got := Why(tt.err); !strings.Contains(got, tt.want) {
			t.Errorf("Why(%v) = %q, want it to contain %q", tt.err, got, tt.want)
		}
	}
}

func TestLabels(t *testing.T) {
	if nsLabel("") != "the host" || nsLabel("lab-red") != "lab-red" {
		t.Errorf("nsLabel: %q %q", nsLabel(""), nsLabel("lab-red"))
	}
	if ipN("") != "ip" || ipN("lab-red") != "ip -n lab-red" {
		t.Errorf("ipN: %q %q", ipN(""), ipN("lab-red"))
	}
}
