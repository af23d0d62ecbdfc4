package cnet

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/lab-edu/lab/kernel/rootfs"
)

// WriteEtc writes /etc/hostname, /etc/hosts and /etc/resolv.conf into the
// container's root directory rootfs (the mounted overlay), for network
// mode mode ("bridge", "none", "host"); ep is the Attach result in bridge
// mode, nil otherwise. Paths are resolved inside rootfs (see
// rootfs.WriteFiles), so a symbolic link in the image cannot make lab
// write outside it.
func WriteEtc(rootDir, hostname string, ep *Endpoint, mode string) error {
	files, err := EtcFiles(hostname, ep, mode)
	if err != nil {
		return err
	}
	return rootfs.WriteFiles(rootDir, "etc", files)
}

// EtcFiles are the contents of /etc/hostname, /etc/hosts and
// /etc/resolv.conf for a container (see WriteEtc), made from the host's
// files. In host mode /etc/hosts is the host's. The runtime computes them
// on the host's side and its init writes them, so the init does not need
// this package.
func EtcFiles(hostname string, ep *Endpoint, mode string) ([]rootfs.File, error) {
	hosts := hostsFile(hostname, ep)
	if mode == ModeHost {
		b, err := os.ReadFile("/etc/hosts")
		if err != nil {
			return nil, fmt.Errorf("write /etc/hosts: %w", err)
		}
		hosts = b
	}
	resolv, err := os.ReadFile("/etc/resolv.conf")
	if errors.Is(err, fs.ErrNotExist) {
		resolv = nil // no resolver on the host: the container gets the fallback
	} else if err != nil {
		return nil, fmt.Errorf("write /etc/resolv.conf: %w", err)
	}
	if mode != ModeHost && onlySystemdStub(resolv) {
		if b, err := os.ReadFile("/run/systemd/resolve/resolv.conf"); err == nil {
			resolv = b
		}
	}
	return []rootfs.File{
		{Name: "hostname", Data: hostnameFile(hostname)},
		{Name: "hosts", Data: hosts},
		{Name: "resolv.conf", Data: containerResolvConf(resolv, mode)},
	}, nil
}
