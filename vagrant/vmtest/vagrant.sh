#!/usr/bin/env bash
# vagrant.sh: the classroom box, end to end, as a teacher uses it
# (make test-vagrant, after make box):
#
#   vagrant box add lab.box; vagrant up --provider=libvirt (vagrant/Vagrantfile,
#   provisioning offline); vagrant ssh -c 'sudo lab doctor'; then for each
#   lab of LAB_VAGRANT_LABS a model submission (the lessons' Solution blocks,
#   vmtest submission) graded with `sudo lab grade --submission DIR --lab
#   LAB`, which must give full marks; vagrant destroy.
#
# LAB_VAGRANT_LABS defaults to the labs whose lessons, run as one script on
# a fresh machine, reach every step: chroot uts pid ipc netns. In the other
# labs a step's Solution relies on what `lab start`/`lab next` set up for
# it (directories, groups, the minidocker skeleton) or answers a quiz,
# which one script run by `lab grade --submission` does not reproduce.
#
# Everything network runs inside a network namespace this script makes
# (lab-vagrant): libvirtd, its NAT bridge, dnsmasq, and vagrant's ssh to
# the guest. The namespace has no route out, so the guest is offline, as in
# a classroom, and no traffic leaves this machine's sandbox.
#
# libvirtd and virtlogd are started by hand in that namespace when not
# running (these machines have no systemd), and stopped again at the end.
# LAB_LIBVIRT_DRIVER defaults to qemu (software emulation): /dev/kvm here
# cannot run a stock Debian kernel; use kvm on a normal host.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
GO="${GO:-$(command -v go || echo /usr/local/go/bin/go)}"
CACHE="$REPO/.cache/vm" # the box, vagrant's state, the submissions
BOX_FILE="${LAB_BOX_FILE:-$CACHE/box/lab.box}"
NETNS="lab-vagrant"
BOX_NAME="lab-local"

export VAGRANT_HOME="$CACHE/vagrant-home"        # a box store of our own
export VAGRANT_DOTFILE_PATH="$CACHE/vagrant-dot" # no .vagrant/ in the repo
export VAGRANT_DEFAULT_PROVIDER=libvirt
export LAB_BOX="$BOX_NAME"
export LAB_LIBVIRT_DRIVER="${LAB_LIBVIRT_DRIVER:-qemu}"

log() { printf 'vagrant: %s\n' "$*" >&2; }
in_ns() { ip netns exec "$NETNS" "$@"; }

# quiet drops the progress bars that fill CI logs (grep -v of no line is
# not an error).
quiet() {
	stdbuf -oL tr '\r' '\n' | { grep --line-buffered -v -e 'Progress:' -e '^\s*$' || true; }
}

# vagrant_do runs vagrant in the namespace from vagrant/; its exit status
# is vagrant's.
vagrant_do() {
	(cd "$REPO/vagrant" && in_ns vagrant "$@") 2>&1 | quiet
	return "${PIPESTATUS[0]}"
}

made_netns=0
started=() # daemons started here, by name (their pid file is /run/NAME.pid)

setup_netns() {
	if ! ip netns list | grep -qw "$NETNS"; then
		ip netns add "$NETNS"
		made_netns=1
	fi
	in_ns ip link set lo up
}

# start_daemon starts virtlogd or libvirtd in the namespace, unless one
# runs already: then it must be in our namespace, or the guest's network
# would be on this machine's own.
start_daemon() {
	local name="$1" pid
	pid="$(cat "/run/$name.pid" 2>/dev/null || true)"
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		if [ "$(readlink "/proc/$pid/ns/net")" != "$(in_ns readlink /proc/self/ns/net)" ]; then
			log "$name (pid $pid) runs outside the $NETNS network namespace: stop it first"
			exit 3
		fi
		return
	fi
	in_ns "$name" -d
	started+=("$name")
}

# cleanup_vagrant destroys the VM, removes the box and its libvirt volume.
cleanup_vagrant() {
	if [ -d "$VAGRANT_DOTFILE_PATH/machines" ]; then
		vagrant_do destroy -f >/dev/null || true
	fi
	rm -rf "$VAGRANT_DOTFILE_PATH"
	vagrant box remove --force "$BOX_NAME" >/dev/null 2>&1 || true
	# vagrant-libvirt keeps the box's disk in the storage pool as a volume.
	virsh -q -c qemu:///system vol-list default 2>/dev/null | awk -v b="$BOX_NAME" '$1 ~ "^"b"_" {print $1}' |
		while read -r vol; do virsh -q -c qemu:///system vol-delete --pool default "$vol" >/dev/null; done
}

cleanup() {
	set +e
	cleanup_vagrant
	for name in "${started[@]}"; do
		kill "$(cat "/run/$name.pid")" 2>/dev/null
	done
	[ "$made_netns" -eq 1 ] && ip netns delete "$NETNS"
}

main() {
	[ "$(id -u)" -eq 0 ] || {
		log "run as root: sudo make test-vagrant"
		exit 3
	}
	[ -f "$BOX_FILE" ] || {
		log "no box at $BOX_FILE: run \`sudo make box\` first"
		exit 3
	}
	for tool in vagrant libvirtd virsh; do
		command -v "$tool" >/dev/null || {
			log "missing $tool: run \`bash vagrant/image/deps.sh --vagrant\`"
			exit 3
		}
	done
	trap cleanup EXIT
	local t0=$SECONDS
	setup_netns
	start_daemon virtlogd
	start_daemon libvirtd
	for _ in $(seq 30); do
		[ -S /run/libvirt/libvirt-sock ] && break
		sleep 1
	done
	cleanup_vagrant # what an interrupted run left (its VM, its ssh key)

	# Model submissions, made on the host (the VM has no Go).
	local sub="$CACHE/submission" n=0
	rm -rf "$sub"
	mkdir -p "$sub"
	(cd "$REPO" && "$GO" build -o "$CACHE/vmtest" ./vagrant/vmtest)
	for lab in ${LAB_VAGRANT_LABS:-chroot uts pid ipc netns}; do
		"$CACHE/vmtest" submission "$lab" >"$sub/$lab.sh"
		n=$((n + 1))
	done

	vagrant box add --force --name "$BOX_NAME" "$BOX_FILE" 2>&1 | quiet >&2
	local t1=$SECONDS
	vagrant_do up --provider=libvirt >&2
	local t2=$SECONDS
	log "vagrant up: $((t2 - t1)) s"

	local status=0
	vagrant_do ssh -c 'sudo lab doctor' >&2 || status=1
	# The submissions go in through ssh's stdin as a tar stream.
	tar -C "$sub" -cf - . | vagrant_do ssh -c 'rm -rf /tmp/submission && mkdir /tmp/submission && tar -C /tmp/submission -xf -' >&2
	local t3=$SECONDS
	# shellcheck disable=SC2016 # expanded in the guest
	vagrant_do ssh -c 'rc=0; for s in /tmp/submission/*.sh; do l=$(basename "$s" .sh)
		sudo lab grade --submission /tmp/submission --lab "$l" --format junit --out "/tmp/$l.xml" || {
			rc=1; grep -B2 -A6 "<failure" "/tmp/$l.xml"; }
		done; exit $rc' >&2 || status=1
	log "grade of $n model submissions: $((SECONDS - t3)) s (exit status $status)"
	vagrant_do destroy -f >&2
	log "total $((SECONDS - t0)) s"
	if [ "$status" -eq 0 ]; then
		log "$n labs graded full marks on the box"
	fi
	return "$status"
}

main "$@"
