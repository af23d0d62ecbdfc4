#!/usr/bin/env bash
# run.sh: run the whole test suite inside the lab VM (`make test-vm`).
#
#   sudo vagrant/vmtest/run.sh
#
# The lab VM is Debian 12 with cgroup v2, where students work; the
# development and CI machines are cgroup v1 hybrid. So CI runs every test
# here too, as root, with LAB_REQUIRE_ALL=1:
#
#  1. on the host: build the image (cached, vagrant/image/build.sh), compile
#     every package's tests (`go test -c`), lab, and test2json, and lay them
#     out in a share directory beside a copy of the source tree;
#  2. boot the image under QEMU: software emulation (TCG; this machine's
#     /dev/kvm cannot boot a stock kernel), a throwaway snapshot of the disk,
#     the share as virtio 9p (and Go's build and module caches, for the
#     tests that run `go`), Go's tree as a read-only disk (goroot_disk), no
#     network device at all;
#  3. in the guest, lab-vmtest.service runs guest.sh, which runs every test
#     binary and `lab dev check` for every lab, writes results to the share
#     and powers off;
#  4. on the host: print the failures and `vm: N passed, N failed`; exit 1
#     when anything failed or the VM did not finish within LAB_VM_TIMEOUT.
#
# Environment: LAB_VM_TIMEOUT (s, default 3600), LAB_VM_PKG_TIMEOUT (s per
# test binary, default 1800), LAB_VM_MEMORY (MiB, 2048), LAB_VM_CPUS (2),
# LAB_VM_ACCEL (tcg,thread=multi); LAB_VM_CACHE for build.sh (/var/cache/lab-vm).
# A quicker run of part of the suite (CI always runs all of it):
# LAB_VM_PACKAGES, a regexp of package paths below the module
# (kernel/cgroup|steps/cgroups), and LAB_VM_LABS, a regexp of lab IDs for
# `lab dev check` (cgroups; a pattern that matches none runs no lab);
# LAB_VM_RUN, a -test.run pattern, and LAB_VM_COUNT, how many times each
# test runs (-test.count), to chase a test that fails now and then.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
GO="${GO:-$(command -v go || echo /usr/local/go/bin/go)}"
RUN="$REPO/.cache/vm/run" # the share; kept after the run for inspection
TIMEOUT="${LAB_VM_TIMEOUT:-3600}"

log() { printf 'vm: %s\n' "$*" >&2; }

# build_share fills the share: the source tree (tracked and new files, as
# `git ls-files` sees them), each package's test binary in bin/ under the
# package's path, and the lists guest.sh reads. The guest copies both to
# its own disk.
build_share() {
	local share="$1"
	rm -rf "$share"
	mkdir -p "$share/src" "$share/bin" "$share/out"
	(cd "$REPO" && git ls-files -z -co --exclude-standard |
		tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -C "$share/src" -xf -

	cp "$HERE/guest.sh" "$share/guest.sh"
	echo "${LAB_VM_PKG_TIMEOUT:-1800}" >"$share/pkg-timeout"
	printf '%s\n%s\n' "${LAB_VM_RUN:-}" "${LAB_VM_COUNT:-1}" >"$share/run-count"
	# Where things are on the host: the guest mounts Go's tree, build cache
	# and module cache at the same paths and copies the source tree to the
	# same directory, so `go build` and `go list` in a test find the cache
	# entries the host made (compiling in the VM is ~27x slower).
	{
		echo "HOST_REPO=$REPO"
		echo "HOST_GOROOT=$("$GO" env GOROOT)"
		echo "HOST_GOCACHE=$("$GO" env GOCACHE)"
		echo "HOST_GOMODCACHE=$("$GO" env GOMODCACHE)"
	} >"$share/host.env"
	(cd "$REPO" && CGO_ENABLED=0 "$GO" build -trimpath -o "$share/" ./cmd/lab ./cmd/lab-init)
	(cd "$REPO" && "$GO" build -o "$share/test2json" cmd/test2json)
	(cd "$REPO" && "$GO" build -o "$share/vmtest" ./vagrant/vmtest)
	"$share/vmtest" labs | grep -E "^(${LAB_VM_LABS:-.*})\$" >"$share/labs" || true

	# Every package with tests: one binary each, named after the package's
	# directory, run by the guest from that directory.
	: >"$share/packages"
	: >"$share/build-failures"
	local pkg dir rel bin
	while read -r pkg dir; do
		rel="${dir#"$REPO"}"
		rel="${rel#/}"
		bin="$(basename "${rel:-lab}").test"
		# A package whose tests do not compile is a failure, not the end of the run.
		if ! (cd "$REPO" && "$GO" test -c -o "$share/bin/$rel/$bin" "$pkg") 2>"$share/build.err"; then
			cat "$share/build.err" >&2
			printf '%s\t%s\n' "$pkg" "$(head -c 2000 "$share/build.err" | tr '\n\t' '  ')" >>"$share/build-failures"
			continue
		fi
		printf '%s\t%s\t%s\t%s\n' "$pkg" "${rel:-.}" "$bin" "$(skips "$pkg")" >>"$share/packages"
	done < <(cd "$REPO" && "$GO" list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}} {{.Dir}}{{end}}' ./... |
		grep -E "^github.com/lab-edu/lab/(${LAB_VM_PACKAGES:-.*}) ")
	log "built $(wc -l <"$share/packages") test binaries and lab; $(wc -l <"$share/labs") labs"
}

# goroot_disk prints the path of a read-only ext4 disk image holding Go's
# tree (GOROOT), made once per Go version with `mke2fs -d` and cached
# beside the VM image. The go command reads and hashes thousands of GOROOT
# files for every build, and each file read through 9p costs round trips
# through QEMU's emulated device: from a disk, the guest's page cache
# serves them (a student's `go build` in the VM dropped from over a minute).
goroot_disk() {
	local goroot version img
	goroot="$("$GO" env GOROOT)"
	version="$("$GO" env GOVERSION)"
	img="${LAB_VM_CACHE:-/var/cache/lab-vm}/goroot-$version-$(printf '%s' "$goroot" | sha256sum | cut -c1-8).ext4"
	if [ ! -s "$img" ]; then
		mkdir -p "$(dirname "$img")"
		rm -f "${LAB_VM_CACHE:-/var/cache/lab-vm}"/goroot-*.ext4
		local mib=$(($(du -sm "$goroot" | cut -f1) * 13 / 10 + 64))
		mke2fs -q -t ext4 -L goroot -d "$goroot" "$img.tmp" "${mib}M" >&2
		mv "$img.tmp" "$img"
		log "made $(basename "$img") (${mib} MiB) from $goroot"
	fi
	echo "$img"
}

# skips prints the -test.skip pattern for a package, from vagrant/vmtest/skip.
skips() {
	sed -e 's/#.*//' "$HERE/skip" | awk -v p="$1" '$1 == p { print $2 }' | paste -sd'|' -
}

boot() {
	local image="$1" share="$2" goroot="$3"
	local console="$share/console.log"
	local args=(
		-machine q35 -accel "${LAB_VM_ACCEL:-tcg,thread=multi}" -cpu max
		-smp "${LAB_VM_CPUS:-2}" -m "${LAB_VM_MEMORY:-2048}"
		-nodefaults -no-user-config -display none -no-reboot
		-serial "file:$console"
		-kernel "$image/vmlinuz" -initrd "$image/initrd.img"
		-append "$(cat "$image/cmdline") lab.vmtest panic=-1"
		-drive "file=$image/disk.raw,format=raw,if=virtio,snapshot=on"
		-virtfs "local,path=$share,mount_tag=labtest,security_model=none,id=labtest"
		-drive "file=$goroot,format=raw,if=virtio,readonly=on"
		-virtfs "local,path=$("$GO" env GOCACHE),mount_tag=gocache,security_model=none,id=gocache"
		-virtfs "local,path=$("$GO" env GOMODCACHE),mount_tag=gomodcache,security_model=none,readonly=on,id=gomodcache"
		-nic none
	)
	log "booting $(basename "$image") (timeout ${TIMEOUT}s; console: $console)"
	local start=$SECONDS rc=0
	: >"$console"
	timeout -k 10 "$TIMEOUT" qemu-system-x86_64 "${args[@]}" &
	local qemu=$!
	# Show the guest runner's progress lines as they come.
	tail -n +1 -F --pid="$qemu" "$console" 2>/dev/null | grep --line-buffered -o 'vmtest: .*' >&2 &
	wait "$qemu" || rc=$?
	wait || true
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		log "timed out after ${TIMEOUT}s (LAB_VM_TIMEOUT); last console lines:"
		tail -n 20 "$console" >&2
		return 1
	fi
	log "VM ran $((SECONDS - start)) s (qemu exit $rc)"
}

main() {
	[ "$(id -u)" -eq 0 ] || {
		log "run as root (the image build uses debootstrap): sudo make test-vm"
		exit 3
	}
	command -v qemu-system-x86_64 >/dev/null || {
		log "missing qemu-system-x86_64: run \`make vm-deps\`"
		exit 3
	}
	local t0=$SECONDS image goroot
	image="$(bash "$REPO/vagrant/image/build.sh")"
	local t1=$SECONDS
	build_share "$RUN"
	goroot="$(goroot_disk)"
	local t2=$SECONDS
	local status=0
	boot "$image" "$RUN" "$goroot" || status=1
	local t3=$SECONDS
	log "times: image $((t1 - t0)) s, host build $((t2 - t1)) s, VM $((t3 - t2)) s"
	"$RUN/vmtest" summary "$RUN" || status=1
	return "$status"
}

main "$@"
