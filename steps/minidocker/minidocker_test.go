package minidockerlab_test

import (
	"bytes"
	"context"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/content"
	"github.com/lab-edu/lab/kernel/kerneltest"
	"github.com/lab-edu/lab/kernel/reexec"
	"github.com/lab-edu/lab/steps"
	minidockerlab "github.com/lab-edu/lab/steps/minidocker"
	"github.com/lab-edu/lab/steps/stepstest"
)

func TestMain(m *testing.M) {
	if reexec.Init() { // the pivot check re-executes the test binary (the escape probe)
		return
	}
	os.Exit(m.Run())
}

// topicFiles maps each step to the file of the student's module it grades.
var topicFiles = map[string]string{
	"namespaces": "namespaces.go", "hostname": "hostname.go", "pivot-root": "pivot.go", "proc": "proc.go",
	"cgroup": "cgroup.go", "caps": "caps.go", "network": "network.go",
}

// TestSources: every embedded Go file is gofmt'ed; the skeleton has one
// TODO per step in the step's file and the reference has none; every
// step's file has a reference.
func TestSources(t *testing.T) {
	skel, ref := minidockerlab.Skeleton(), minidockerlab.Reference()
	for name, b := range skel {
		if !strings.HasSuffix(name, ".go") {
			continue
		}
		if got, err := format.Source(b); err != nil || !bytes.Equal(got, b) {
			t.Errorf("skeleton/%s.txt is not gofmt'ed (err %v)", name, err)
		}
	}
	for name, b := range ref {
		if got, err := format.Source(b); err != nil || !bytes.Equal(got, b) {
			t.Errorf("reference/%s.txt is not gofmt'ed (err %v)", name, err)
		}
		if bytes.Contains(b, []byte("TODO")) {
			t.Errorf("reference/%s.txt still has a TODO", name)
		}
		if _, ok := skel[name]; !ok {
			t.Errorf("reference/%s.txt replaces no file of the skeleton", name)
		}
	}
	// The checks expect the values main.go fixes (checks.go: want*).
	for _, want := range []string{`hostname\s+= "mini"`, `memoryLimit\s+= 64 << 20`, `pidsLimit\s+= 64\s`} {
		if !regexp.MustCompile(want).Match(skel["main.go"]) {
			t.Errorf("skeleton/main.go.txt has no %s, which the checks expect", want)
		}
	}
	if len(topicFiles) != len(minidockerlab.Assignment) {
		t.Fatalf("%d topic files for %d steps", len(topicFiles), len(minidockerlab.Assignment))
	}
	for _, s := range minidockerlab.Assignment {
		file := topicFiles[s.Slug()]
		if !bytes.Contains(skel[file], []byte("TODO("+s.Slug()+")")) {
			t.Errorf("skeleton/%s.txt has no TODO(%s)", file, s.Slug())
		}
		if _, ok := ref[file]; !ok {
			t.Errorf("no reference/%s.txt for step %s", file, s.ID)
		}
	}
}

// TestSolutionTextIsTheReference: the Solution block of each step writes
// exactly the reference file (a heredoc) and builds, so `lab solve --show`
// and the reference cannot drift apart.
func TestSolutionTextIsTheReference(t *testing.T) {
	for _, s := range minidockerlab.Assignment {
		doc, err := content.Step(s.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		file := topicFiles[s.Slug()]
		script := doc.Shell()
		head := "cat > {{work}}/mini/" + file + " <<'EOF'\n"
		i := strings.Index(script, head)
		j := strings.Index(script, "\nEOF\n")
		if i < 0 || j < i {
			t.Errorf("%s: the Solution block does not write %s with a <<'EOF' heredoc", s.ID, file)
			continue
		}
		if got, want := script[i+len(head):j+1], string(minidockerlab.Reference()[file]); got != want {
			t.Errorf("%s: the Solution heredoc differs from reference/%s.txt", s.ID, file)
		}
		if !strings.Contains(script[j:], "go build -o mini .") {
			t.Errorf("%s: the Solution block does not build mini after writing %s", s.ID, file)
		}
	}
}

// TestModulesVet: the skeleton and the full reference are each a clean
// module of their own (go vet, offline, standard library only).
func TestModulesVet(t *testing.T) {
	kerneltest.Requires(t, kerneltest.Tool("go"))
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	for _, variant := range []string{"skeleton", "reference"} {
		t.Run(variant, func(t *testing.T) {
			dir := t.TempDir()
			for name, b := range minidockerlab.Skeleton() {
				writeFile(t, filepath.Join(dir, name), b)
			}
			if variant == "reference" {
				for name, b := range minidockerlab.Reference() {
					writeFile(t, filepath.Join(dir, name), b)
				}
			}
			cmd := exec.Command(goBin, "vet", ".")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local", "GOPROXY=off", "GOFLAGS=-mod=mod")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("go vet of the %s: %v\n%s", variant, err, out)
			}
		})
	}
}

func writeFile(t *testing.T, p string, b []byte) {
	t.Helper()
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// labEnv is a fresh workspace; at the end every step's Cleanup runs and
// the host must be as it was.
func labEnv(t *testing.T) *steps.Env {
	t.Helper()
	kerneltest.Requires(t, kerneltest.Root, kerneltest.Tool("go"), kerneltest.Tool("busybox"), kerneltest.Tool("nsenter"))
	env := stepstest.NewEnv(t, minidockerlab.ID)
	before := stepstest.Snapshot(t)
	t.Cleanup(func() {
		ctx := context.Background()
		for i := len(minidockerlab.Steps) - 1; i >= 0; i-- {
			if err := minidockerlab.Steps[i].Cleanup(ctx, env); err != nil {
				t.Errorf("clean up %s: %v", minidockerlab.Steps[i].ID, err)
			}
		}
		if err := minidockerlab.Reset(ctx, env); err != nil {
			t.Error(err)
		}
		stepstest.Same(t, before, stepstest.Snapshot(t))
	})
	return env
}

// TestSkeletonFailsReferencePasses is the acceptance test of the
// assignment: the untouched skeleton, built, fails every step with a
// reason and a hint; with every topic's reference it passes every step.
func TestSkeletonFailsReferencePasses(t *testing.T) {
	env := labEnv(t)
	ctx := t.Context()
	// The first step's Setup writes the skeleton and the rootfs, and
	// builds nothing: the student builds.
	stepstest.Do(t, minidockerlab.Assignment[0].Setup, ctx, env)
	bin := filepath.Join(env.Dir, "mini", "mini")
	if _, err := os.Stat(bin); err == nil {
		t.Fatal("Setup of the first step built mini: building is the student's first move")
	}
	r := minidockerlab.Assignment[0].Verify(ctx, env.Host)
	if r.Status != checker.Fail || !strings.Contains(r.Hint, "go build") {
		t.Fatalf("without a binary: %s: %s (hint %q), want a fail that says to go build", r.Status, r.Reason, r.Hint)
	}
	goBuild(t, filepath.Join(env.Dir, "mini"))
	for _, s := range minidockerlab.Assignment {
		r := s.Verify(ctx, env.Host)
		t.Logf("skeleton, %s: %s: %s (hint: %s)", s.ID, r.Status, r.Reason, r.Hint)
		if r.Status != checker.Fail || r.Reason == "" || r.Hint == "" {
			t.Errorf("skeleton, %s: %s %q (hint %q), want a fail with a reason and a hint", s.ID, r.Status, r.Reason, r.Hint)
		}
	}
	for _, file := range topicFiles {
		writeFile(t, filepath.Join(env.Dir, "mini", file), minidockerlab.Reference()[file])
	}
	goBuild(t, filepath.Join(env.Dir, "mini"))
	for _, s := range minidockerlab.Assignment {
		r := s.Verify(ctx, env.Host)
		if r.Status != checker.Pass {
			t.Errorf("reference, %s: %s: %s (hint: %s)", s.ID, r.Status, r.Reason, r.Hint)
		} else {
			t.Logf("reference, %s: %s", s.ID, strings.Join(r.Evidence, "; "))
		}
	}
}

func goBuild(t *testing.T, dir string) {
	t.Helper()
	cmd := exec.Command("go", "build", "-o", "mini", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local", "GOPROXY=off", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build in %s: %v\n%s", dir, err, out)
	}
}

// TestSolutionShell follows each step's Solution block literally with
// bash, after the step's Setup, and expects its check to pass.
func TestSolutionShell(t *testing.T) {
	for _, s := range minidockerlab.Assignment {
		t.Run(s.Slug(), func(t *testing.T) {
			env := labEnv(t)
			ctx := t.Context()
			stepstest.Do(t, s.Setup, ctx, env)
			out := stepstest.RunSolution(t, s.ID, env, 60*time.Second)
			if r := s.Verify(ctx, env.Host); r.Status != checker.Pass {
				t.Fatalf("after the Solution block: %s: %s (hint: %s)\noutput:\n%s", r.Status, r.Reason, r.Hint, out)
			}
		})
	}
}

// TestWrongWork builds the reference with one file replaced by a plausible
// mistake and expects that step's check to fail, saying what is wrong.
func TestWrongWork(t *testing.T) {
	tests := []struct {
		step, file, source, want string
	}{
		{"namespaces", "namespaces.go", `package main

import "syscall"

func cloneFlags() uintptr {
	return syscall.CLONE_NEWUTS | syscall.CLONE_NEWPID | syscall.CLONE_NEWNS | syscall.CLONE_NEWIPC
}
`, "shares the host's net"},
		{"hostname", "hostname.go", `package main

import "syscall"

func setHostname(name string) error { return syscall.Sethostname([]byte("container")) }
`, `"container"`},
		{"pivot-root", "pivot.go", `package main

import "syscall"

// A chroot, not a pivot_root.
func pivotRoot(rootfs string) error {
	if err := syscall.Chroot(rootfs); err != nil {
		return err
	}
	return syscall.Chdir("/")
}
`, "chrooted into a directory"},
		{"pivot-root", "pivot.go", strings.Replace(string(minidockerlab.Reference()["pivot.go"]),
			`	if err := syscall.Unmount("/"+oldRoot, syscall.MNT_DETACH); err != nil {
		return fmt.Errorf("detach the old root: %w", err)
	}
	return os.Remove("/" + oldRoot)`, `	return nil`, 1), "the old root is reachable"},
		{"cgroup", "cgroup.go", strings.Replace(string(minidockerlab.Reference()["cgroup.go"]),
			`[]byte("0")`, `[]byte("")`, 1), "a cgroup of its own"},
		{"caps", "caps.go", `package main

var keptCaps = []uint{0, 1, 3, 4, 5, 6, 7, 8, 10, 13, 18, 27, 29, 31}

// Only the current sets: the bounding set stays full, and execve gives
// root everything back.
func dropCapabilities() error {
	var mask uint64
	for _, c := range keptCaps {
		mask |= 1 << c
	}
	if err := capset(mask, mask, 0); err != nil {
		return err
	}
	return prctl(prSetNoNewPrivs, 1)
}
`, "CapBnd (bounding) within Docker's default"},
		{"caps", "caps.go", strings.Replace(string(minidockerlab.Reference()["caps.go"]),
			`	if err := prctl(prSetNoNewPrivs, 1); err != nil {
		return fmt.Errorf("set no_new_privs: %w", err)
	}
`, "", 1), "NoNewPrivs: 1"},
	}
	env := labEnv(t)
	ctx := t.Context()
	stepstest.Do(t, minidockerlab.Assignment[len(minidockerlab.Assignment)-1].Setup, ctx, env) // every earlier topic solved
	dir := filepath.Join(env.Dir, "mini")
	for _, file := range topicFiles {
		writeFile(t, filepath.Join(dir, file), minidockerlab.Reference()[file])
	}
	for _, tt := range tests {
		t.Run(tt.step+"/"+tt.want, func(t *testing.T) {
			if tt.source == string(minidockerlab.Reference()[tt.file]) {
				t.Fatal("the mistake did not change the reference: fix the test")
			}
			writeFile(t, filepath.Join(dir, tt.file), []byte(tt.source))
			defer writeFile(t, filepath.Join(dir, tt.file), minidockerlab.Reference()[tt.file])
			goBuild(t, dir)
			s := stepByID(t, minidockerlab.ID+"/"+tt.step)
			r := s.Verify(ctx, env.Host)
			if r.Status != checker.Fail || !strings.Contains(r.Reason, tt.want) {
				t.Fatalf("%s: %s %q (hint %q), want a fail whose reason has %q", s.ID, r.Status, r.Reason, r.Hint, tt.want)
			}
		})
	}
}

func stepByID(t *testing.T, id string) steps.Step {
	t.Helper()
	for _, s := range minidockerlab.Assignment {
		if s.ID == id {
			return s
		}
	}
	t.Fatalf("no step %s", id)
	return steps.Step{}
}
