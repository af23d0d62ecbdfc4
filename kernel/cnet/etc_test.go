package cnet

import (
	"net/netip"
	"strings"
	"testing"
)

func TestContainerResolvConf(t *testing.T) {
	host := "# managed\nsearch example.org\nnameserver 127.0.0.53\nnameserver 192.0.2.53\noptions edns0\n"
	got := string(containerResolvConf([]byte(host), ModeBridge))
	want := "# managed\nsearch example.org\nnameserver 192.0.2.53\noptions edns0\n"
	if got != want {
		t.Errorf("bridge:\n%s\nwant:\n%s", got, want)
	}
	// Only loopback servers: Docker's fallback.
	got = string(containerResolvConf([]byte("nameserver 127.0.0.1\n"), ModeBridge))
	if !strings.Contains(got, "nameserver 8.8.8.8\n") || strings.Contains(got, "127.0.0.1") {
		t.Errorf("loopback only:\n%s", got)
	}
	// Host mode shares the host's loopback: the file is kept as it is.
	if got := string(containerResolvConf([]byte(host), ModeHost)); got != host {
		t.Errorf("host mode changed the file:\n%s", got)
	}
}

func TestOnlySystemdStub(t *testing.T) {
	for conf, want := range map[string]bool{
		"nameserver 127.0.0.53\noptions edns0\n":        true,
		"nameserver 127.0.0.53\nnameserver 192.0.2.1\n": false,
		"nameserver 10.0.0.1\n":                         false,
		"":                                              false,
	} {
		if got := onlySystemdStub([]byte(conf)); got != want {
			t.Errorf("%q: %v, want %v", conf, got, want)
		}
	}
}

func TestHostsFile(t *testing.T) {
	got := string(hostsFile("db", &Endpoint{Addr: netip.MustParsePrefix("10.88.0.9/16")}))
	want := "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n10.88.0.9\tdb\n"
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if got := string(hostsFile("db", nil)); strings.Contains(got, "db") {
		t.Errorf("no endpoint, yet the name is there:\n%s", got)
	}
}
