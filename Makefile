# lab: an educational container lab toolkit.
#
#   sudo make run     provision if needed, build, install, start the first lab
#   sudo make test    install test dependencies, go vet, and every test
#                     (root-only tests are required to run, not skipped)

GO       ?= $(shell command -v go || echo /usr/local/go/bin/go)
VERSION  ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X github.com/lab-edu/lab/cmd/internal/cli.Version=$(VERSION)
PREFIX   ?= /usr/local

# lab is built (and tested) statically linked: `lab container exec` runs the
# lab binary inside a container's root, where the host's dynamic loader and
# libc do not exist (kernel/container's selfIsStatic explains).
export CGO_ENABLED := 0
# Tests run `go` themselves (go list, building the student's mini program):
# the toolchain make found goes first on their PATH.
export PATH := $(dir $(GO)):$(PATH)

.PHONY: all build install run test test-deps vet bench vm-bin clean

all: build

# lab-init is every container's first process (kernel/container/ctrinit):
# lab finds it beside itself, and starts containers faster with it.
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/ ./cmd/lab ./cmd/lab-init

install: build
	install -m 0755 bin/lab bin/lab-init $(PREFIX)/bin/

run: test-deps install
	$(PREFIX)/bin/lab start chroot

# test-deps installs, from Debian packages, everything the tests run
# (busybox-static, iproute2, iptables, libcap2-bin, ...) and Go if missing.
test-deps:
	bash vagrant/provision.sh --deps-only
	bash vagrant/image/deps.sh --lint

vet:
	test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	GOOS=darwin $(GO) vet ./...

# LAB_REQUIRE_ALL=1 turns every "needs root / needs a tool" skip into a
# failure, so CI never passes by skipping the kernel tests. The test
# binaries are compiled in parallel first, then run one package at a time
# (-p 1): root tests of different labs change the same host, and each
# lifecycle test compares the host before and after.
test: test-deps vet
	$(GO) test -count=1 -run '^$$' ./... >/dev/null
	LAB_REQUIRE_ALL=1 $(GO) test -count=1 -p 1 -timeout 20m ./...

bench:
	$(GO) test -run '^$$' -bench . -benchtime 20x ./...

# vm-bin builds a static binary the VM's provisioning installs as is.
vm-bin:
	GOOS=linux CGO_ENABLED=0 $(GO) build -ldflags "$(LDFLAGS)" -o vagrant/ ./cmd/lab ./cmd/lab-init

clean:
	rm -rf bin vagrant/lab vagrant/lab-init .cache/vm

# The lab VM: image, test-vm, box, test-vagrant, lint-vm (see vagrant/VM.md).
include vagrant/vm.mk
