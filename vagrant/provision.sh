#!/usr/bin/env bash
# provision.sh: make a Debian 12 machine ready for lab.
#
#   sudo vagrant/provision.sh             install packages, Go if missing, build and install lab
#   sudo vagrant/provision.sh --deps-only install what lab and its tests need, build nothing
#
# Idempotent: every step checks first and does nothing when already done.
# The Vagrant VM runs it at `vagrant up`; `make run` and `make test` run it too.
set -euo pipefail

GO_VERSION="${GO_VERSION:-1.26.8}"       # the toolchain go.mod asks for
GO_ROOT="${GO_ROOT:-/usr/local/go}"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Packages students' commands and the tests use. busybox-static gives the
# rootfs its shell; iproute2, util-linux, libcap2-bin and iptables are the
# tools the lab text teaches; procps and psmisc help students look around.
PACKAGES=(
	busybox-static iproute2 util-linux libcap2-bin iptables nftables
	procps psmisc hostname kmod ca-certificates curl git make gcc
)

log() { printf 'provision: %s\n' "$*"; }

need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "provision: run as root (sudo $0)" >&2
		exit 3
	fi
}

install_packages() {
	local missing=()
	for p in "${PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	if [ "${#missing[@]}" -eq 0 ]; then
		log "packages: all present"
		return
	fi
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# go_ok: is there a Go at least as new as go.mod asks for?
go_ok() {
	local go_bin
	go_bin="$(command -v go || true)"
	[ -z "$go_bin" ] && [ -x "$GO_ROOT/bin/go" ] && go_bin="$GO_ROOT/bin/go"
	[ -z "$go_bin" ] && return 1
	local have
	have="$("$go_bin" env GOVERSION 2>/dev/null | sed 's/^go//')"
	[ -n "$have" ] && [ "$(printf '%s\n%s\n' "$GO_VERSION" "$have" | sort -V | head -1)" = "$GO_VERSION" ]
}

# install_go: Debian 12's own Go (1.19) is too old for this module. Try the
# official tarball first; if that host is unreachable, fetch the same
# toolchain as a module from the Go module proxy with Debian's Go 1.19
# (the toolchain is published there as golang.org/toolchain).
install_go() {
	if go_ok; then
		log "go: $(go env GOVERSION 2>/dev/null || "$GO_ROOT/bin/go" env GOVERSION) present"
		return
	fi
	local arch
	arch="$(dpkg --print-architecture)"
	local tarball="go${GO_VERSION}.linux-${arch}.tar.gz"
	local tmp
	tmp="$(mktemp -d)"
	if curl -fsSL --max-time 120 -o "$tmp/$tarball" "https://go.dev/dl/$tarball" 2>/dev/null; then
		rm -rf "$GO_ROOT" && tar -C "$(dirname "$GO_ROOT")" -xzf "$tmp/$tarball"
	else
		log "go.dev unreachable: fetching the toolchain from the Go module proxy"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go >/dev/null
		local mod="golang.org/toolchain@v0.0.1-go${GO_VERSION}.linux-${arch}"
		local dir
		dir="$(cd "$tmp" && GOPATH="$tmp/gopath" GOFLAGS=-mod=mod /usr/lib/go/bin/go mod download -json "$mod" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')"
		if [ -z "$dir" ]; then
			echo "provision: no Go $GO_VERSION: install it from https://go.dev/dl and re-run" >&2
			exit 3
		fi
		rm -rf "$GO_ROOT" && cp -r "$dir" "$GO_ROOT"
		chmod -R u+w "$GO_ROOT"
		chmod +x "$GO_ROOT"/bin/* "$GO_ROOT"/pkg/tool/*/*
		chmod -R u+w "$tmp" && rm -rf "$tmp/gopath"
	fi
	rm -rf "$tmp"
	ln -sf "$GO_ROOT/bin/go" /usr/local/bin/go
	ln -sf "$GO_ROOT/bin/gofmt" /usr/local/bin/gofmt
	log "go: $("$GO_ROOT/bin/go" env GOVERSION) installed"
}

# online: can this machine reach where install_go downloads from? (An
# offline classroom box answers no within seconds instead of waiting on
# apt's and curl's timeouts.)
online() {
	curl -sI --max-time 10 -o /dev/null https://go.dev/dl/ ||
		curl -sI --max-time 10 -o /dev/null https://proxy.golang.org/
}

# prebuilt_ok: is there a lab binary built on the host (`make vm-bin`) that
# runs on this machine? (A binary for another OS or CPU fails to start.)
prebuilt_ok() {
	[ -x "$REPO/vagrant/lab" ] && "$REPO/vagrant/lab" --version >/dev/null 2>&1
}

build_lab() {
	export PATH="$GO_ROOT/bin:$PATH"
	# Static (no cgo): `lab container exec` runs the binary inside a
	# container root, which has no dynamic loader.
	(cd "$REPO" && CGO_ENABLED=0 go build -o "$REPO/bin/" ./cmd/lab ./cmd/lab-init)
	install -m 0755 "$REPO/bin/lab" "$REPO/bin/lab-init" /usr/local/bin/
	log "lab: built and installed to /usr/local/bin/lab (and lab-init, every container's first process)"
}

need_root
install_packages
if [ "${1:-}" = "--deps-only" ]; then
	install_go
elif prebuilt_ok; then
	install -m 0755 "$REPO/vagrant/lab" /usr/local/bin/lab
	# lab-init, beside lab, makes containers start faster (lab works without).
	[ ! -x "$REPO/vagrant/lab-init" ] || install -m 0755 "$REPO/vagrant/lab-init" /usr/local/bin/lab-init
	log "lab: installed the prebuilt binary ($(/usr/local/bin/lab --version))"
elif [ -x /usr/local/bin/lab ] && ! go_ok && ! online; then
	# The offline classroom box (make box) ships lab and no Go.
	log "lab: offline and no Go to build with: keeping the installed $(/usr/local/bin/lab --version)"
else
	install_go
	build_lab
fi
