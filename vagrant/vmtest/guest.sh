#!/bin/bash
# guest.sh: the test VM's side of `make test-vm`. It runs as root inside
# the VM (started by lab-vmtest.service of the image, from the 9p share the
# host filled) and writes everything it learns back into the share:
#
#   out/env              kernel, cgroup file system, controllers
#   out/json/N.json      test2json events of test binary N
#   out/packages         one line per test binary: import path, exit code, seconds
#   out/devcheck/LAB.out `lab dev check LAB` output; out/devcheck.tsv: lab, exit code, seconds
#   out/leftovers        lab* objects still in the kernel after everything ran
#   out/done             written last: the run finished (the host checks it)
#
# The machine powers off when this script returns (the unit's
# SuccessAction/FailureAction), so it never exits early on an error.
set -u

SHARE=/mnt/labtest
OUT="$SHARE/out"
PKG_TIMEOUT="$(cat "$SHARE/pkg-timeout" 2>/dev/null || echo 900)"
# LAB_VM_RUN and LAB_VM_COUNT of run.sh: a -test.run pattern, a -test.count.
{ read -r RUN && read -r COUNT; } <"$SHARE/run-count" 2>/dev/null || true
COUNT="${COUNT:-1}" RUN="${RUN:-}"
# HOST_REPO, HOST_GOROOT, HOST_GOCACHE, HOST_GOMODCACHE: paths on the host.
# shellcheck source=/dev/null
. "$SHARE/host.env"
WORK="$HOST_REPO"

say() { echo "vmtest: $*"; }

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LAB_REQUIRE_ALL=1 LANG=C.UTF-8
# Software emulation: tests' guards against hangs get 10x longer
# (stepstest.ScaleTimeout); compiling runs ~27x slower here.
export LAB_TEST_TIMEOUT_SCALE=10
mkdir -p "$OUT/json" "$OUT/devcheck"

# Go, for the tests that run it (go list, go build of a student's program):
# the host's toolchain, build cache and module cache at the host's paths,
# offline. LAB_BIN names the lab binary for tests that would
# otherwise build one.
mount9p() {
	mkdir -p "$2" && mount -t 9p -o "trans=virtio,version=9p2000.L,msize=524288${3:+,$3}" "$1" "$2"
}
# Go's tree is the second disk (an ext4 image the host made: see run.sh's
# goroot_disk), the caches are 9p shares.
mountgoroot() {
	mkdir -p "$HOST_GOROOT" && mount -o ro LABEL=goroot "$HOST_GOROOT"
}
if mountgoroot && mount9p gocache "$HOST_GOCACHE" && mount9p gomodcache "$HOST_GOMODCACHE" ro; then
	export PATH="$HOST_GOROOT/bin:$PATH" GOROOT="$HOST_GOROOT" GOCACHE="$HOST_GOCACHE"
	export GOMODCACHE="$HOST_GOMODCACHE" GOPROXY=off GOTOOLCHAIN=local GOFLAGS=-mod=mod
else
	say "no Go from the host: tests that run go will fail"
fi
export LAB_BIN=/usr/local/bin/lab

# A test rig: no timer starts services mid-run (systemd-tmpfiles-clean's
# did, 15 minutes after boot, and its sandbox's mounts and namespaces came
# and went while tests compared the host before and after).
systemctl stop '*.timer' 2>/dev/null || true

{
	echo "kernel=$(uname -r)"
	echo "cgroup_fs=$(stat -fc %T /sys/fs/cgroup)"
	echo "controllers=$(cat /sys/fs/cgroup/cgroup.controllers 2>/dev/null)"
	echo "cpus=$(nproc)"
	echo "memory_kib=$(awk '/^MemTotal/ {print $2}' /proc/meminfo)"
	echo "boot_seconds=$(cut -d' ' -f1 /proc/uptime)"
} >"$OUT/env"
say "$(tr '\n' ' ' <"$OUT/env")"

# Tests read testdata/ relative to their package and write beside it, so
# they run in a copy of the source tree on the VM's own disk (ext4, where
# overlayfs, xattrs and everything else work), not on the 9p share.
rm -rf "$WORK"
mkdir -p "$(dirname "$WORK")"
cp -a "$SHARE/src" "$WORK"
# The test binaries too: they re-execute themselves (kernel/reexec), and an
# exec from 9p reads the file through the share every time.
cp -a "$SHARE/bin" /var/tmp/labtest-bin
install -m 0755 "$SHARE/lab" "$SHARE/lab-init" /usr/local/bin/

n=0
while IFS=$'\t' read -r pkg rel bin skip; do
	n=$((n + 1))
	args=(-test.v=test2json "-test.count=$COUNT" "-test.timeout=${PKG_TIMEOUT}s")
	[ -n "$RUN" ] && args+=("-test.run=$RUN")
	[ -n "$skip" ] && args+=("-test.skip=$skip")
	say "run $pkg"
	start=$SECONDS
	(cd "$WORK/$rel" && "/var/tmp/labtest-bin/$rel/$bin" "${args[@]}" 2>&1) |
		"$SHARE/test2json" -t -p "$pkg" >"$OUT/json/$n.json"
	rc=${PIPESTATUS[0]}
	printf '%s\t%s\t%s\n' "$pkg" "$rc" "$((SECONDS - start))" >>"$OUT/packages"
	say "done $pkg: exit $rc in $((SECONDS - start)) s"
done <"$SHARE/packages"

# lab dev check LAB: every step fails unsolved, passes solved, cleans up.
while read -r lab; do
	[ -n "$lab" ] || continue
	say "lab dev check $lab"
	start=$SECONDS
	lab dev check "$lab" >"$OUT/devcheck/$lab.out" 2>&1
	rc=$?
	printf '%s\t%s\t%s\n' "$lab" "$rc" "$((SECONDS - start))" >>"$OUT/devcheck.tsv"
	say "done lab dev check $lab: exit $rc in $((SECONDS - start)) s"
done <"$SHARE/labs"

# Every step and test cleans up after itself: anything still named lab*
# in the kernel now is a leak (cgroups, named netns, links, mounts, rules).
{
	find /sys/fs/cgroup -maxdepth 3 -type d -name 'lab*' ! -name 'lab-vmtest.service' -printf 'cgroup %p\n'
	find /run/netns -maxdepth 1 -name 'lab*' -printf 'netns %p\n' 2>/dev/null
	ip -o link show | awk -F': ' '$2 ~ /^lab/ { print "link " $2 }'
	awk '$5 ~ /lab/ && $5 != "/mnt/labtest" { print "mount " $5 }' /proc/self/mountinfo
	iptables-save 2>/dev/null | grep -i 'lab' | sed 's/^/iptables /'
} >"$OUT/leftovers"

echo "seconds=$SECONDS" >"$OUT/done"
sync
say "finished in $SECONDS s"
# Power off now, without stopping services: a test that left a frozen or
# unkillable process behind must not hang the shutdown (the disk is a
# throwaway snapshot; the results are already on the host's side of 9p).
systemctl poweroff --force --force
