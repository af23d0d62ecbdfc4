package cli

import (
	"errors"
	"slices"
	"testing"

	"github.com/lab-edu/lab/kernel/container"
)

// parseRun runs `lab run ARGS` up to the spec, without running anything.
func parseRun(t *testing.T, args ...string) (container.Spec, error) {
	t.Helper()
	f := &Factory{IO: &IOStreams{}}
	var spec container.Spec
	var specErr error
	cmd := newCmdRun(f, func(o *runOptions) error {
		spec, specErr = o.spec()
		return nil
	})
	cmd.SetArgs(args)
	if err := cmd.Execute(); err != nil {
		t.Fatalf("lab run %v: %v", args, err)
	}
	return spec, specErr
}

func TestRunFlags(t *testing.T) {
	spec, err := parseRun(t, "--rm", "-e", "A=1", "--memory", "64m", "--cpus", "0.5", "--pids-limit", "20",
		"--cap-drop", "ALL", "--net", "none", "-v", "/srv:/data:ro", "-h", "box", "busybox", "sh", "-c", "echo -n hi")
	if err != nil {
		t.Fatal(err)
	}
	if spec.Image != "busybox" || !slices.Equal(spec.Cmd, []string{"sh", "-c", "echo -n hi"}) || spec.Memory != 64<<20 ||
		spec.CPUs != 0.5 || spec.PidsLimit != 20 || spec.Net != "none" || spec.Hostname != "box" || !spec.Remove ||
		len(spec.Volumes) != 1 || !spec.Volumes[0].ReadOnly {
		t.Fatalf("spec %+v", spec)
	}
	if spec.UserNS {
		t.Error("UserNS without --userns")
	}
	if spec, err = parseRun(t, "--userns", "private", "busybox"); err != nil || !spec.UserNS {
		t.Errorf("--userns private: UserNS %v, %v", spec.UserNS, err)
	}
}

func TestRunBadValuesExit125(t *testing.T) {
	for _, args := range [][]string{
		{"--memory", "64x", "busybox"},
		{"--net", "wifi", "busybox"},
		{"-v", "relative:/data", "busybox"},
		{"-p", "notaport", "busybox"},
		{"--cpus", "-1", "busybox"},
		{"--userns", "remap", "busybox"},
	} {
		_, err := parseRun(t, args...)
		var ee *ExitError
		if !errors.As(err, &ee) || ee.Code != container.ExitEngine {
			t.Errorf("lab run %v: %v, want exit 125", args, err)
		}
	}
}
