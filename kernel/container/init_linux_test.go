package container

import (
	"syscall"
	"testing"
)

// The init is born in new pid, uts, mount, ipc and net namespaces: clone(2)
// flags read from the command, as u-root's tests do.
func TestInitCloneflags(t *testing.T) {
	c := &Container{ID: newID(), Spec: Spec{Net: NetNone}}
	flags := c.initCommand().SysProcAttr.Cloneflags
	want := uintptr(syscall.CLONE_NEWPID | syscall.CLONE_NEWUTS | syscall.CLONE_NEWNS | syscall.CLONE_NEWIPC | syscall.CLONE_NEWNET)
	if flags != want {
		t.Fatalf("Cloneflags = %#x, want %#x", flags, want)
	}
	c.Spec.Net = NetHost
	if c.initCommand().SysProcAttr.Cloneflags&syscall.CLONE_NEWNET != 0 {
		t.Fatal("--net host still gets a new network namespace")
	}
	c.Spec.CgroupNS = true
	if c.initCommand().SysProcAttr.Cloneflags&syscall.CLONE_NEWCGROUP == 0 {
		t.Fatal("--cgroupns gets no cgroup namespace")
	}
}
