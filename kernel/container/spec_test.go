package container

import (
	"testing"

	"github.com/lab-edu/lab/kernel/caps"
)

func TestParseMemory(t *testing.T) {
	good := map[string]int64{"64m": 64 << 20, "1g": 1 << 30, "512k": 512 << 10, "100": 100, "32M": 32 << 20, "7b": 7}
	for in, want := range good {
		got, err := ParseMemory(in)
		if err != nil || got != want {
			t.Errorf("ParseMemory(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "64x", "m", "-1m", "0", "1.5g", "64mb"} {
		if _, err := ParseMemory(in); err == nil {
			t.Errorf("ParseMemory(%q) accepted a bad size", in)
		}
	}
}

func TestParseVolume(t *testing.T) {
	v, err := ParseVolume("/srv/data:/data:ro")
	if err != nil || v != (Volume{Source: "/srv/data", Target: "/data", ReadOnly: true}) {
		t.Fatalf("ParseVolume = %+v, %v", v, err)
	}
	for _, in := range []string{"/a", "a:/b", "/a:b", "/a:/b:rx", "/a:/b:ro:x"} {
		if _, err := ParseVolume(in); err == nil {
			t.Errorf("ParseVolume(%q) accepted a bad volume", in)
		}
	}
}

func TestDockerDefaultCaps(t *testing.T) {
	if n := popcount(caps.DockerDefault); n != 14 {
		t.Fatalf("Docker's default set has %d capabilities, want 14", n)
	}
	set, err := caps.Adjust(caps.DockerDefault, []string{"NET_ADMIN"}, []string{"CAP_NET_RAW", "chown"}, 40)
	if err != nil {
		t.Fatal(err)
	}
	if set&caps.Of(caps.NetRaw) != 0 || set&caps.Of(caps.Chown) != 0 || set&caps.Of(caps.NetAdmin) == 0 {
		t.Fatalf("Adjust = %v", set)
	}
	if set, _ := caps.Adjust(caps.DockerDefault, nil, []string{"ALL"}, 40); set != 0 {
		t.Fatalf("--cap-drop ALL left %v", set)
	}
	if set, _ := caps.Adjust(caps.DockerDefault, []string{"SYS_ADMIN"}, []string{"ALL"}, 40); set != caps.Of(caps.SysAdmin) {
		t.Fatalf("--cap-drop ALL --cap-add SYS_ADMIN = %v", set)
	}
	if _, err := caps.Adjust(caps.DockerDefault, []string{"NOPE"}, nil, 40); err == nil {
		t.Fatal("an unknown capability was accepted")
	}
}

func popcount(s caps.Set) (n int) {
	for ; s != 0; s &= s - 1 {
		n++
	}
	return n
}

func TestMergeEnv(t *testing.T) {
	got := mergeEnv([]string{"PATH=/bin", "A=1"}, []string{"A=2", "B=3"})
	want := []string{"PATH=/bin", "A=2", "B=3"}
	if len(got) != len(want) {
		t.Fatalf("mergeEnv = %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("mergeEnv = %v, want %v", got, want)
		}
	}
}
