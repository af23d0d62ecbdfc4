package procfs

import (
	"os"
	"slices"
	"testing"
	"testing/fstest"
)

func TestParseNetTCP(t *testing.T) {
	f, err := os.Open("testdata/net-tcp.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	socks, err := ParseNetTCP(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(socks) != 3 {
		t.Fatalf("ParseNetTCP: %d sockets, want 3", len(socks))
	}
	want := TCPSocket{LocalAddr: "00000000", LocalPort: 80, State: TCPListen, UID: 65534, Inode: 998877}
	if socks[2] != want {
		t.Errorf("socket 2 = %+v, want %+v", socks[2], want)
	}
	if socks[1].State != 6 || socks[1].LocalPort != 0x82E8 {
		t.Errorf("socket 1 = %+v, want TIME_WAIT on port 33512", socks[1])
	}
}

func TestListening(t *testing.T) {
	tcp, _ := os.ReadFile("testdata/net-tcp.txt")
	tcp6, _ := os.ReadFile("testdata/net-tcp6.txt")
	fsys := fstest.MapFS{
		"proc/7/net/tcp":  {Data: tcp},
		"proc/7/net/tcp6": {Data: tcp6},
	}
	for port, want := range map[int]bool{80: true, 2024: true, 8080: true, 443: false, 33512: false} {
		if got := Listening(fsys, 7, port); got != want {
			t.Errorf("Listening(7, %d) = %t, want %t", port, got, want)
		}
	}
	if Listening(fsys, 8, 80) {
		t.Error("Listening(8, 80) = true for a process that is gone")
	}
}

func TestEnviron(t *testing.T) {
	fsys := fstest.MapFS{
		"proc/7/environ": {Data: []byte("PATH=/bin\x00LAB_CAPS=noraw\x00")},
		"proc/8/environ": {Data: nil}, // a zombie, or a kernel thread
	}
	env, err := Environ(fsys, 7)
	if err != nil || !slices.Equal(env, []string{"PATH=/bin", "LAB_CAPS=noraw"}) {
		t.Errorf("Environ(7) = %q, %v", env, err)
	}
	if env, err := Environ(fsys, 8); err != nil || env != nil {
		t.Errorf("Environ(8) = %q, %v, want nothing", env, err)
	}
}
