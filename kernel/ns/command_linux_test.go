package ns

import (
	"syscall"
	"testing"
)

func TestCommandSetsCloneFlags(t *testing.T) {
	cmd := Command(Spec{New: []Kind{UTS, PID, Mount}, Detach: true}, "/bin/sh", "-c", "hostname")
	a := cmd.SysProcAttr
	if a == nil {
		t.Fatal("Command left SysProcAttr nil")
	}
	if want := uintptr(syscall.CLONE_NEWUTS | syscall.CLONE_NEWPID | syscall.CLONE_NEWNS); a.Cloneflags != want {
		t.Errorf("Cloneflags = %#x, want %#x", a.Cloneflags, want)
	}
	if !a.Setsid {
		t.Error("Detach should set Setsid")
	}
	if len(a.UidMappings) != 0 || a.Credential != nil {
		t.Error("no user namespace asked: no maps, no credential")
	}
}

func TestCommandUserNamespace(t *testing.T) {
	one := []IDMap{{Inside: 0, Outside: 65534, Count: 1}}
	cmd := Command(Spec{New: []Kind{User}, UIDMap: one, GIDMap: one, AsRootInside: true}, "/bin/true")
	a := cmd.SysProcAttr
	if a.Cloneflags != syscall.CLONE_NEWUSER {
		t.Errorf("Cloneflags = %#x, want CLONE_NEWUSER", a.Cloneflags)
	}
	want := syscall.SysProcIDMap{ContainerID: 0, HostID: 65534, Size: 1}
	if len(a.UidMappings) != 1 || a.UidMappings[0] != want || len(a.GidMappings) != 1 || a.GidMappings[0] != want {
		t.Errorf("maps = %+v %+v, want one line 0 65534 1", a.UidMappings, a.GidMappings)
	}
	if a.Credential == nil || a.Credential.Uid != 0 || a.Credential.Gid != 0 {
		t.Errorf("Credential = %+v, want uid 0 gid 0 inside", a.Credential)
	}
	if a.GidMappingsEnableSetgroups {
		t.Error("setgroups must stay denied for an unprivileged gid_map")
	}
}

func TestApplyKeepsExistingFlags(t *testing.T) {
	cmd := Command(Spec{New: []Kind{Net}}, "/bin/true")
	Apply(Spec{New: []Kind{IPC}}, cmd)
	if want := uintptr(syscall.CLONE_NEWNET | syscall.CLONE_NEWIPC); cmd.SysProcAttr.Cloneflags != want {
		t.Errorf("Cloneflags = %#x, want %#x", cmd.SysProcAttr.Cloneflags, want)
	}
}
